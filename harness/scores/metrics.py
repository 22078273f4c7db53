"""Pure metric functions on predicted class probabilities.

Every function takes ``y_true`` of shape ``(n,)`` (integer labels in ``[0, K)``) and ``proba`` of
shape ``(n, K)`` (rows are probability vectors) and returns a float. Definitions:

- confidence = the largest class probability; ``y_pred`` = argmax, lowest index on ties.
- confident mistake: ``y_pred != y_true`` and ``confidence >= tau``.
- ECE: 15 equal-width confidence bins over [0, 1] (the first bin includes 0),
  sum over bins of ``(n_b / n) * |accuracy_b - confidence_b|``.
- Brier: mean over samples of the sum over classes of ``(p_k - 1[y = k])^2`` (not divided by K).
- NLL: mean of ``-ln p_y`` with ``p`` clipped to ``[1e-15, 1]``.

``*_score`` is higher-is-better, ``*_error`` / ``*_loss`` / ``*_rate`` lower-is-better. The
per-sample terms and per-bin sums these are means or ratios of (``squared_errors``, ``log_losses``,
``confident_mistakes``, ``confidence_bins``, ``ece_from_bins``) are written once in
:mod:`harness.scores.terms` and importable from here; the block-wise tally adds up the same terms.
"""

from __future__ import annotations

import numpy as np

from harness.scores.terms import (  # noqa: F401 (part of this module's interface)
    ECE_BINS,
    NLL_EPS,
    confidence_bins,
    confident_mistakes,
    ece_from_bins,
    log_losses,
    squared_errors,
)


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

    Parameters
    ----------
    proba : array-like
        Probabilities ``(n, K)``.

    Returns
    -------
    tuple of ndarray
        ``y_pred`` int ``(n,)`` and ``confidence`` float ``(n,)``.

    Examples
    --------
    >>> predict([[0.5, 0.5], [0.2, 0.8]])
    (array([0, 1]), array([0.5, 0.8]))
    """
    proba = np.asarray(proba, dtype=float)
    return proba.argmax(axis=1), proba.max(axis=1)


def accuracy_score(y_true, proba) -> float:
    """Share of samples whose argmax equals the label.

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.

    Returns
    -------
    float
        In [0, 1]; NaN for no sample.

    Examples
    --------
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

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.
    n_bins : int, default 15
        Equal-width confidence bins over [0, 1].

    Returns
    -------
    float
        In [0, 1]; NaN for no sample.

    Examples
    --------
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



def brier_loss(y_true, proba) -> float:
    """Mean over samples of the squared distance between ``proba`` and the one-hot label.

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.

    Returns
    -------
    float
        In [0, 2]; NaN for no sample.

    Examples
    --------
    >>> brier_loss([0], [[0.75, 0.25]])
    0.125
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(squared_errors(y_true, proba)))



def nll_loss(y_true, proba) -> float:
    """Mean negative log-likelihood of the true label, probabilities clipped to [1e-15, 1].

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.

    Returns
    -------
    float
        In [0, 34.54]; NaN for no sample.

    Examples
    --------
    >>> round(nll_loss([1], [[0.5, 0.5]]), 6)
    0.693147
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(log_losses(y_true, proba)))



def confident_error_rate(y_true, proba, *, tau: float = 0.9) -> float:
    """Share of all samples that are wrong with confidence >= tau (hallucination-like mistakes).

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.
    tau : float, default 0.9
        Confidence from which a mistake counts as confident.

    Returns
    -------
    float
        In [0, 1]; NaN for no sample.

    Examples
    --------
    >>> confident_error_rate([0, 0, 1, 1], [[0.05, 0.95], [0.5, 0.5], [0.1, 0.9], [0.92, 0.08]])
    0.5
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    y_pred, confidence = predict(proba)
    return float(np.mean(confident_mistakes(y_pred == y_true, confidence, tau=tau)))



def confident_error_share(y_true, proba, *, tau: float = 0.9) -> float:
    """Share of the mistakes that were made with confidence >= tau; NaN when there is no mistake.

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.
    tau : float, default 0.9
        Confidence from which a mistake counts as confident.

    Returns
    -------
    float
        In [0, 1]; NaN when there is no mistake.

    Examples
    --------
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

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.

    Returns
    -------
    float
        In [1/K, 1]; NaN for no sample.

    Examples
    --------
    >>> mean_confidence([0, 1], [[0.9, 0.1], [0.3, 0.7]])
    0.8
    """
    y_true, proba = _check(y_true, proba)
    if not y_true.size:
        return float("nan")
    return float(np.mean(predict(proba)[1]))


def trailing_error(errors, window: int) -> np.ndarray:
    """Error rate of the trailing ``window`` samples ending at each index (NaN before a full window).

    Parameters
    ----------
    errors : array-like
        Per-sample errors ``(n,)`` (1 wrong, 0 right).
    window : int
        Samples per trailing window.

    Returns
    -------
    ndarray
        Float ``(n,)``; NaN at the first ``window - 1`` indices.

    Examples
    --------
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

    Parameters
    ----------
    errors : array-like
        Per-sample errors ``(n,)`` (1 wrong, 0 right).
    start : int
        Index the count starts from (the drift's end).
    baseline, tolerance : float
        The error to come back to, and by how much it may exceed it.
    window : int
        Samples per trailing window.

    Returns
    -------
    float
        Samples, at least ``window``; NaN if never.

    Examples
    --------
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

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.
    taus : array-like
        Confidence thresholds ``(m,)``.

    Returns
    -------
    tuple of ndarray
        Accuracy float ``(m,)`` (NaN where no prediction) and count int ``(m,)``.

    Examples
    --------
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



def reliability_bins(y_true, proba, *, n_bins: int = ECE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per confidence bin (as in ``ece_error``): mean confidence, accuracy and count; NaN where empty.

    Parameters
    ----------
    y_true, proba : array-like
        Labels ``(n,)`` in ``[0, K)`` and probabilities ``(n, K)``.
    n_bins : int, default 15
        Equal-width confidence bins over [0, 1].

    Returns
    -------
    tuple of ndarray
        Mean confidence, accuracy (float, NaN where empty) and count (int), each ``(n_bins,)``.

    Examples
    --------
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
