"""Pure metric functions on predicted class probabilities.

Every function takes ``y_true`` of shape ``(n,)`` (integer labels in ``[0, K)``) and ``proba`` of
shape ``(n, K)`` (rows are probability vectors) and returns a float. Definitions:

- confidence = the largest class probability; ``y_pred`` = argmax, lowest index on ties.
- confident mistake: ``y_pred != y_true`` and ``confidence >= tau``.
- ECE: 15 equal-width confidence bins over [0, 1] (the first bin includes 0),
  sum over bins of ``(n_b / n) * |accuracy_b - confidence_b|``.
- Brier: mean over samples of the sum over classes of ``(p_k - 1[y = k])^2`` (not divided by K).
- NLL: mean of ``-ln p_y`` with ``p`` clipped to ``[1e-15, 1]``.

``*_score`` is higher-is-better, ``*_error`` / ``*_loss`` / ``*_rate`` lower-is-better.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15
NLL_EPS = 1e-15


def _check(y_true, proba) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise ValueError(f"proba must have shape (n, K), got {proba.shape}")
    if y_true.shape != (proba.shape[0],):
        raise ValueError(f"y_true must have shape ({proba.shape[0]},), got {y_true.shape}")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= proba.shape[1]):
        raise ValueError(f"labels must lie in [0, {proba.shape[1]}), got {y_true.min()}..{y_true.max()}")
    return y_true.astype(int), proba


def predict(proba) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y_pred, confidence)``: argmax (lowest index on ties) and the largest probability.

    >>> predict([[0.5, 0.5], [0.2, 0.8]])
    (array([0, 1]), array([0.5, 0.8]))
    """
    proba = np.asarray(proba, dtype=float)
    return proba.argmax(axis=1), proba.max(axis=1)


def accuracy_score(y_true, proba) -> float:
    """Share of samples whose argmax equals the label.

    >>> accuracy_score([0, 1, 1], [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    0.6666666666666666
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(predict(proba)[0] == y_true))


def ece_error(y_true, proba, *, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error over equal-width confidence bins.

    A confidence lands in bin ``b`` when ``b/n_bins < c <= (b+1)/n_bins``; 0 goes to the first bin.

    >>> ece_error([0, 1], [[0.9, 0.1], [0.8, 0.2]])  # bins at 0.9 (right) and 0.8 (wrong)
    0.45
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    y_pred, confidence = predict(proba)
    bins = confidence_bins(confidence, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    correct = np.bincount(bins, weights=y_pred == y_true, minlength=n_bins)
    return ece_from_bins(counts, correct, np.bincount(bins, weights=confidence, minlength=n_bins))


def ece_from_bins(counts, correct, confidence) -> float:
    """ECE from per-bin sums: ``counts`` samples, ``correct`` of them right, ``confidence`` the sum
    of their confidences (each ``(n_bins,)``). What :func:`ece_error` computes, and what the
    block-wise tally (:mod:`harness.scores.tally`) computes from sums added over blocks.

    >>> ece_from_bins(np.array([1, 1, 0]), np.array([1, 0, 0]), np.array([0.9, 0.8, 0.0]))
    0.45
    """
    counts, correct, confidence = np.asarray(counts), np.asarray(correct), np.asarray(confidence)
    filled = counts > 0
    n = counts.sum()
    gaps = np.abs(correct[filled] / counts[filled] - confidence[filled] / counts[filled])
    return float(np.sum(counts[filled] / n * gaps))


def brier_loss(y_true, proba) -> float:
    """Mean over samples of the squared distance between ``proba`` and the one-hot label.

    >>> brier_loss([0], [[0.75, 0.25]])
    0.125
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(squared_errors(y_true, proba)))


def squared_errors(y_true: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Each sample's Brier term, ``sum_k (p_k - 1[y = k])^2`` (:func:`brier_loss` is their mean);
    ``y_true`` int ``(n,)`` and ``proba`` ``(n, K)`` arrays, not checked.

    >>> squared_errors(np.array([0, 1]), np.array([[0.75, 0.25], [1.0, 0.0]])).tolist()
    [0.125, 2.0]
    """
    onehot = np.eye(proba.shape[1])[y_true]
    return np.sum((proba - onehot) ** 2, axis=1)


def nll_loss(y_true, proba) -> float:
    """Mean negative log-likelihood of the true label, probabilities clipped to [1e-15, 1].

    >>> round(nll_loss([1], [[0.5, 0.5]]), 6)
    0.693147
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(log_losses(y_true, proba)))


def log_losses(y_true: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Each sample's ``-ln p_y``, ``p_y`` clipped to ``[1e-15, 1]`` (:func:`nll_loss` is their mean);
    ``y_true`` int ``(n,)`` and ``proba`` ``(n, K)`` arrays, not checked.

    >>> log_losses(np.array([1, 0]), np.array([[0.5, 0.5], [0.0, 1.0]])).round(3).tolist()
    [0.693, 34.539]
    """
    p_true = np.clip(proba[np.arange(len(y_true)), y_true], NLL_EPS, 1.0)
    return -np.log(p_true)


def confident_error_rate(y_true, proba, *, tau: float = 0.9) -> float:
    """Share of all samples that are wrong with confidence >= tau (hallucination-like mistakes).

    >>> confident_error_rate([0, 0, 1, 1], [[0.05, 0.95], [0.5, 0.5], [0.1, 0.9], [0.92, 0.08]])
    0.5
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    y_pred, confidence = predict(proba)
    return float(np.mean(confident_mistakes(y_pred == y_true, confidence, tau=tau)))


def confident_mistakes(correct: np.ndarray, confidence: np.ndarray, *, tau: float) -> np.ndarray:
    """Which samples are confident mistakes: wrong (``correct`` false) with ``confidence >= tau``
    (:func:`confident_error_rate` is their share of all samples, :func:`confident_error_share` of
    the mistakes).

    >>> confident_mistakes(np.array([True, False, False]), np.array([0.95, 0.95, 0.6]), tau=0.9).tolist()
    [False, True, False]
    """
    return ~correct & (confidence >= tau)


def confident_error_share(y_true, proba, *, tau: float = 0.9) -> float:
    """Share of the mistakes that were made with confidence >= tau; NaN when there is no mistake.

    >>> confident_error_share([0, 0, 1], [[0.05, 0.95], [0.6, 0.4], [0.6, 0.4]])
    0.5
    """
    y_true, proba = _check(y_true, proba)
    y_pred, confidence = predict(proba)
    correct = y_pred == y_true
    if correct.all():
        return float("nan")
    return float(np.sum(confident_mistakes(correct, confidence, tau=tau)) / np.sum(~correct))


def mean_confidence(y_true, proba) -> float:
    """Mean of the largest class probability.

    >>> mean_confidence([0, 1], [[0.9, 0.1], [0.3, 0.7]])
    0.8
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(predict(proba)[1]))


def trailing_error(errors, window: int) -> np.ndarray:
    """Error rate of the trailing ``window`` samples ending at each index (NaN before a full window).

    >>> trailing_error([1, 0, 0, 1], 2)
    array([nan, 0.5, 0. , 0.5])
    """
    errors = np.asarray(errors, dtype=float)
    out = np.full(errors.shape, np.nan)
    if window <= len(errors):
        cumulative = np.concatenate([[0.0], np.cumsum(errors)])
        out[window - 1 :] = (cumulative[window:] - cumulative[:-window]) / window
    return out


def recovery_samples(errors, *, start: int, baseline: float, window: int, tolerance: float) -> float:
    """Samples after ``start`` until the trailing-window error is back within ``tolerance`` of ``baseline``.

    Only windows lying entirely at or after ``start`` count, so the answer is at least ``window``;
    NaN if the error never comes back.

    >>> recovery_samples([1, 1, 1, 1, 0, 0, 0], start=2, baseline=0.0, window=2, tolerance=0.02)
    4.0
    >>> recovery_samples([1, 1, 1], start=0, baseline=0.0, window=2, tolerance=0.02)
    nan
    """
    errors = np.asarray(errors, dtype=float)[start:]
    rolling = trailing_error(errors, window)
    hits = np.flatnonzero(rolling <= baseline + tolerance)
    return float(hits[0] + 1) if hits.size else float("nan")


def accuracy_above(y_true, proba, taus) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and count of the predictions made with confidence >= tau, for each tau
    (Ovadia et al. 2019's confidence-versus-accuracy and count-versus-confidence curves).

    >>> accuracy_above([0, 1, 1], [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], [0.0, 0.7, 0.95])
    (array([0.66666667, 1.        ,        nan]), array([3, 2, 0]))
    """
    y_true, proba = _check(y_true, proba)
    y_pred, confidence = predict(proba)
    correct = y_pred == y_true
    taus = np.asarray(taus, dtype=float)
    above = confidence[None, :] >= taus[:, None]
    counts = above.sum(axis=1)
    with np.errstate(invalid="ignore"):
        accuracy = np.where(counts > 0, (above & correct[None, :]).sum(axis=1) / np.maximum(counts, 1), np.nan)
    return accuracy, counts


def confidence_bins(confidence, n_bins: int = ECE_BINS) -> np.ndarray:
    """The bin (as in ``ece_error``) of each confidence: ``b`` when ``b/n_bins < c <= (b+1)/n_bins``.

    >>> confidence_bins(np.array([0.0, 0.2, 0.21, 1.0]), 5).tolist()
    [0, 0, 1, 4]
    """
    # Edges as exact fractions k/n_bins so that a confidence written as k/n_bins lands in the lower bin.
    edges = np.arange(n_bins + 1) / n_bins
    return np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)


def reliability_bins(y_true, proba, *, n_bins: int = ECE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per confidence bin (as in ``ece_error``): mean confidence, accuracy and count; NaN where empty.

    >>> conf, acc, n = reliability_bins([0, 1], [[0.9, 0.1], [0.8, 0.2]], n_bins=5)
    >>> n.tolist(), acc[3:].tolist()
    ([0, 0, 0, 1, 1], [0.0, 1.0])
    """
    y_true, proba = _check(y_true, proba)
    y_pred, confidence = predict(proba)
    correct = (y_pred == y_true).astype(float)
    bins = confidence_bins(confidence, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / counts
    return mean_conf, accuracy, counts
