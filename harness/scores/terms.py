"""The per-sample terms and per-bin sums the scores of :mod:`harness.scores.metrics` are means
or ratios of, written once: the metric functions take them over a whole array, the block-wise tally
(:mod:`harness.scores.tally`) adds them up one block at a time, so both give the same definition.

Inputs are arrays already checked (the metric functions check theirs).
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15
NLL_EPS = 1e-15


def ece_from_bins(counts, correct, confidence) -> float:
    """ECE from per-bin sums: ``counts`` samples, ``correct`` of them right, ``confidence`` the sum
    of their confidences (each ``(n_bins,)``). What :func:`ece_error` computes, and what the
    block-wise tally (:mod:`harness.scores.tally`) computes from sums added over blocks.

    Parameters
    ----------
    counts, correct, confidence : array-like
        Per bin ``(n_bins,)``: samples, right predictions, sum of confidences.

    Returns
    -------
    float
        The ECE of the samples the bins hold.

    Examples
    --------
    >>> ece_from_bins(np.array([1, 1, 0]), np.array([1, 0, 0]), np.array([0.9, 0.8, 0.0]))
    0.45
    """
    counts, correct, confidence = np.asarray(counts), np.asarray(correct), np.asarray(confidence)
    filled = counts > 0
    n = counts.sum()
    gaps = np.abs(correct[filled] / counts[filled] - confidence[filled] / counts[filled])
    return float(np.sum(counts[filled] / n * gaps))


def squared_errors(y_true: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Each sample's Brier term, ``sum_k (p_k - 1[y = k])^2`` (:func:`brier_loss` is their mean);
    ``y_true`` int ``(n,)`` and ``proba`` ``(n, K)`` arrays, not checked.

    Parameters
    ----------
    y_true, proba : ndarray
        Labels ``(n,)`` and probabilities ``(n, K)``.

    Returns
    -------
    ndarray
        Float ``(n,)``, each in [0, 2].

    Examples
    --------
    >>> squared_errors(np.array([0, 1]), np.array([[0.75, 0.25], [1.0, 0.0]])).tolist()
    [0.125, 2.0]
    """
    onehot = np.eye(proba.shape[1])[y_true]
    return np.sum((proba - onehot) ** 2, axis=1)


def log_losses(y_true: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Each sample's ``-ln p_y``, ``p_y`` clipped to ``[1e-15, 1]`` (:func:`nll_loss` is their mean);
    ``y_true`` int ``(n,)`` and ``proba`` ``(n, K)`` arrays, not checked.

    Parameters
    ----------
    y_true, proba : ndarray
        Labels ``(n,)`` and probabilities ``(n, K)``.

    Returns
    -------
    ndarray
        Float ``(n,)``, each in [0, 34.54].

    Examples
    --------
    >>> log_losses(np.array([1, 0]), np.array([[0.5, 0.5], [0.0, 1.0]])).round(3).tolist()
    [0.693, 34.539]
    """
    p_true = np.clip(proba[np.arange(len(y_true)), y_true], NLL_EPS, 1.0)
    return -np.log(p_true)


def confident_mistakes(correct: np.ndarray, confidence: np.ndarray, *, tau: float) -> np.ndarray:
    """Which samples are confident mistakes: wrong (``correct`` false) with ``confidence >= tau``
    (:func:`confident_error_rate` is their share of all samples, :func:`confident_error_share` of
    the mistakes).

    Parameters
    ----------
    correct, confidence : ndarray
        Whether each prediction is right (bool ``(n,)``) and its confidence ``(n,)``.
    tau : float
        Confidence from which a mistake counts as confident.

    Returns
    -------
    ndarray
        Bool ``(n,)``.

    Examples
    --------
    >>> confident_mistakes(np.array([True, False, False]), np.array([0.95, 0.95, 0.6]), tau=0.9).tolist()
    [False, True, False]
    """
    return ~correct & (confidence >= tau)


def confidence_bins(confidence, n_bins: int = ECE_BINS) -> np.ndarray:
    """The bin (as in ``ece_error``) of each confidence: ``b`` when ``b/n_bins < c <= (b+1)/n_bins``.

    Parameters
    ----------
    confidence : ndarray
        Confidences ``(n,)`` in [0, 1].
    n_bins : int, default 15
        Equal-width bins over [0, 1].

    Returns
    -------
    ndarray
        Int ``(n,)`` in ``[0, n_bins)``.

    Examples
    --------
    >>> confidence_bins(np.array([0.0, 0.2, 0.21, 1.0]), 5).tolist()
    [0, 0, 1, 4]
    """
    # Edges as exact fractions k/n_bins so that a confidence written as k/n_bins lands in the lower bin.
    edges = np.arange(n_bins + 1) / n_bins
    return np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
