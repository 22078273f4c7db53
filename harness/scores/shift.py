"""Label-free shift tests: does a window of deployment data come from the reference distribution?

Each test takes a reference sample and a window (inputs or the frozen model's outputs, never labels)
and returns ``(statistic, p_value)``; a window alarms when ``p_value < alpha``. They follow Rabanser,
Günnemann and Lipton, "Failing Loudly" (NeurIPS 2019): univariate KS tests with a Bonferroni
correction, a kernel two-sample test (Gretton et al., JMLR 2012), and black-box shift detection on
softmax outputs (Lipton, Wang and Smola, ICML 2018).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from scipy import stats

# scipy's warnings for answers it still gives, each printed once per monitored window on a user's terminal
KS_INEXACT = "ks_2samp: Exact calculation unsuccessful"  # no exact p-value: the asymptotic one is taken
NEARLY_IDENTICAL = "Precision loss occurred"  # a t-test of samples of one or two values


@contextlib.contextmanager
def scipy_answer(warning: str) -> Iterator[None]:
    """scipy's answer, without its RuntimeWarning starting with ``warning``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=warning, category=RuntimeWarning)
        yield


def ks_bonferroni(reference: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """Two-sample KS test on every column of ``reference`` ``(m, d)`` against ``window`` ``(n, d)``:
    the largest KS statistic and the Bonferroni-corrected smallest p-value ``min(1, d * min p)``.

    >>> statistic, p_value = ks_bonferroni(np.array([[0.0], [1], [2], [3]]), np.array([[10.0], [11], [12], [13]]))
    >>> statistic, round(p_value * 70, 6)  # exact: 2 of the C(8, 4) = 70 splits are as extreme
    (1.0, 2.0)
    """
    reference, window = np.atleast_2d(reference.T).T, np.atleast_2d(window.T).T
    if np.isnan(window).any() or np.isnan(reference).any():
        return _ks_present(reference, window)
    with scipy_answer(KS_INEXACT):
        result = stats.ks_2samp(reference, window, axis=0)
    statistic, p_value = np.atleast_1d(result.statistic), np.atleast_1d(result.pvalue)
    return float(statistic.max()), float(min(1.0, p_value.min() * reference.shape[1]))


def _ks_present(reference: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """:func:`ks_bonferroni` on the values present (not NaN) of each column (exact here: 2 of the C(5, 2)
    splits are as extreme, times 2 features); a column with none in
    either sample is left out of the maximum and the minimum (not of the correction).

    >>> _ks_present(np.array([[0.0, 1], [1, 2], [2, 3]]), np.array([[np.nan, 10.0], [np.nan, 11]]))
    (1.0, 0.4)
    """
    statistics, p_values = [], []
    for ref, win in zip(reference.T, window.T):
        ref, win = ref[~np.isnan(ref)], win[~np.isnan(win)]
        if len(ref) and len(win):
            with scipy_answer(KS_INEXACT):
                result = stats.ks_2samp(ref, win)
            statistics.append(result.statistic)
            p_values.append(result.pvalue)
    if not statistics:
        return float("nan"), 1.0
    return float(max(statistics)), float(min(1.0, min(p_values) * reference.shape[1]))


def ks_inputs(reference_X: np.ndarray, window_X: np.ndarray) -> tuple[float, float]:
    """Per-feature KS tests on the inputs, Bonferroni-corrected over the ``d`` features."""
    return ks_bonferroni(reference_X, window_X)


def bbsd(reference_proba: np.ndarray, window_proba: np.ndarray) -> tuple[float, float]:
    """Black-box shift detection: KS tests on the first ``K - 1`` softmax outputs (the last is fixed
    by the others), Bonferroni-corrected over them."""
    keep = max(1, reference_proba.shape[1] - 1)
    return ks_bonferroni(reference_proba[:, :keep], window_proba[:, :keep])


def confidence_test(reference_confidence: np.ndarray, window_confidence: np.ndarray) -> tuple[float, float]:
    """Welch's two-sided t-test of the window's mean max-probability against the validation split's;
    the statistic is ``t`` (negative when the window is less confident).

    A model whose confidence is the same on every input (a collapsed network, a stream of few distinct
    inputs) gives samples that scipy warns are "nearly identical": the answer is then NaN when both
    samples hold one value (no evidence: no alarm) and a huge ``t`` when they hold two (the window
    moved). Those answers stand, and the warning, printed once per window on a user's terminal, is not
    shown.

    >>> confidence_test(np.full(50, 0.9), np.full(50, 0.9))
    (nan, nan)
    """
    with scipy_answer(NEARLY_IDENTICAL):
        result = stats.ttest_ind(window_confidence, reference_confidence, equal_var=False)
    return float(result.statistic), float(result.pvalue)


@functools.lru_cache(maxsize=4)
def _upper_triangle(n: int) -> np.ndarray:
    """``(n, n)`` mask of the pairs above the diagonal: one per sample size, reused by every window."""
    return np.triu(np.ones((n, n), dtype=bool), k=1)


def lower_median(values: np.ndarray) -> float:
    """The middle value of ``values`` (n > 0, no NaN), the lower of the two middle ones when ``n`` is even
    (as ``torch.median``): exact. A sample of every 64th value brackets the middle; only the values
    inside the bracket are partially sorted (a whole partial sort when the bracket misses).

    >>> lower_median(np.array([4.0, 1.0, 3.0, 2.0]))
    2.0
    """
    middle = (len(values) - 1) // 2
    sample = np.sort(values[::64])
    spread = max(2, int(3 * np.sqrt(len(sample))))  # several standard errors of the sample's rank
    at = (len(sample) - 1) // 2
    low, high = sample[max(0, at - spread)], sample[min(len(sample) - 1, at + spread)]
    below = int(np.count_nonzero(values < low))
    band = values[(values >= low) & (values <= high)]
    if below <= middle < below + len(band):
        return float(np.partition(band, middle - below)[middle - below])
    return float(np.partition(values, middle)[middle])


def median_bandwidth(distances: torch.Tensor) -> float:
    """The median heuristic: the median of the pairwise distances off the diagonal of the square
    distance matrix ``distances`` ``(n, n)`` (1 if they are all 0 or any is NaN), the lower of the
    two middle ones of an even number of pairs (:func:`lower_median`).

    >>> median_bandwidth(torch.cdist(*(torch.tensor([[0.0], [1.0], [3.0]]),) * 2))
    2.0
    """
    pairs = distances.numpy()[_upper_triangle(len(distances))]
    if not len(pairs) or np.isnan(pairs).any():  # torch.median's NaN: no bandwidth
        return 1.0
    median = lower_median(pairs)
    return median if median > 0 else 1.0


def mmd_permutation(
    reference: np.ndarray, window: np.ndarray, *, n_permutations: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Squared MMD (biased V-statistic) with a Gaussian kernel ``exp(-|a - b|^2 / (2 s^2))``, ``s``
    by the median heuristic on the pooled sample, and its permutation p-value
    ``(1 + #{permuted >= observed}) / (1 + n_permutations)``.

    The kernel matrix is computed once; every permutation is a weight vector ``w`` (``1/m`` on the
    first group, ``-1/n`` on the second) and its statistic ``w' K w``, so all permutations are one
    matrix product.

    >>> round(mmd_permutation(np.array([[0.0]]), np.array([[1.0]]), n_permutations=1,
    ...                       rng=np.random.default_rng(0))[0], 5)
    0.78694
    """
    Z = torch.as_tensor(np.vstack([reference, window]), dtype=torch.float64)
    m, n = len(reference), len(window)
    distances = torch.cdist(Z, Z)
    sigma = median_bandwidth(distances)
    K = distances.square_().neg_().div_(2 * sigma**2).exp_()  # in place: exp(-d^2 / (2 s^2)), no copies
    labels = np.zeros((n_permutations + 1, m + n), dtype=bool)
    labels[:, m:] = True
    rng.permuted(labels[1:], axis=1, out=labels[1:])  # each row shuffled in turn: the draws of rng.shuffle
    W = torch.as_tensor(np.where(labels, -1.0 / n, 1.0 / m).T)  # (m + n, 1 + n_permutations)
    values = ((K @ W) * W).sum(dim=0).numpy()
    observed = float(values[0])
    p_value = (1 + np.sum(values[1:] >= observed - 1e-12)) / (1 + n_permutations)
    return observed, float(p_value)
