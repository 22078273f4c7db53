"""Data-quality monitors: is a window of deployment inputs still well-formed, whatever its distribution?

A broken pipe (``drift.kind=pipeline``) shows first in the shape of the data, not in its statistics:
values that stop arriving, values no offline sample ever had, a sensor that repeats itself. Each
monitor reads the raw deployment rows of one window (never a label, never the model) against what the
offline data (training and validation splits, in order) showed of each feature, and alarms per window:

- ``missing_rate``: statistic = the largest share of missing values (NaN) of any feature in the
  window; p-value = one-sided binomial test of each feature's count against its offline share,
  ``P(Binom(n, p_off) >= k)``, Bonferroni over the ``d`` features; alarm when ``p < monitor.alpha``.
  With no missing value offline, any missing value alarms.
- ``out_of_range``: statistic = the largest share of a feature's window values outside its offline
  ``[min, max]``; p-value = one-sided binomial test against ``2 / (m + 1)``, the chance that a value
  exchangeable with the ``m`` offline ones falls outside their range (less with ties), Bonferroni over
  the features; alarm when ``p < monitor.alpha``.
- ``constant_run``: statistic = the largest ratio over the features of the longest run of one
  unchanged value in the window to the longest such run offline; alarm when it exceeds 1 (the window
  holds a run no offline stretch, ten times longer by default, ever held). A missing value breaks a
  run. Not a test: it has no p-value (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

QUALITY = ("missing_rate", "out_of_range", "constant_run")


def longest_runs(X: np.ndarray) -> np.ndarray:
    """``(d,)`` the longest run of consecutive equal values in each column of ``X`` ``(n, d)``; a NaN
    equals nothing (0 for an empty ``X``).

    >>> longest_runs(np.array([[1.0, 0], [1, 1], [1, np.nan], [2, np.nan]])).tolist()
    [3, 1]
    """
    X = np.asarray(X, dtype=np.float64)
    if len(X) == 0:
        return np.zeros(X.shape[1], dtype=np.int64)
    same = np.vstack([np.zeros((1, X.shape[1]), dtype=bool), X[1:] == X[:-1]])
    rows = np.arange(len(X))[:, None]
    starts = np.maximum.accumulate(np.where(same, 0, rows), axis=0)  # where each sample's run began
    return (rows - starts + 1).max(axis=0)


def _bonferroni(counts: np.ndarray, n: np.ndarray, p0: np.ndarray) -> float:
    """``min(1, d * min_j P(Binom(n_j, p0_j) >= counts_j))``."""
    p_values = stats.binom.sf(counts - 1, n, np.clip(p0, 0.0, 1.0))
    return float(min(1.0, len(counts) * p_values.min())) if len(counts) else 1.0


@dataclass(frozen=True)
class QualityReference:
    """Per feature, what the offline rows showed: ``missing`` share, ``low``/``high`` range of the
    present values, ``count`` of present values, ``longest_run`` (at least 1)."""

    missing: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray
    longest_run: np.ndarray

    @classmethod
    def build(cls, X_train: np.ndarray, X_val: np.ndarray) -> QualityReference:
        X = np.vstack([X_train, X_val]).astype(np.float64)
        missing = np.isnan(X)
        present = np.where(missing, np.nan, X)
        with np.errstate(all="ignore"):
            low = np.nanmin(present, axis=0) if (~missing).any() else np.full(X.shape[1], np.nan)
            high = np.nanmax(present, axis=0) if (~missing).any() else np.full(X.shape[1], np.nan)
        runs = np.maximum(np.maximum(longest_runs(X_train), longest_runs(X_val)), 1)
        return cls(missing.mean(axis=0), low, high, (~missing).sum(axis=0), runs)

    def check(self, monitor: str, X: np.ndarray, alpha: float) -> tuple[float, float, bool]:
        """``(statistic, p_value, alarm)`` of ``monitor`` on one window ``X`` ``(n, d)``."""
        X = np.asarray(X, dtype=np.float64)
        n, missing = len(X), np.isnan(X)
        if monitor == "missing_rate":
            counts = missing.sum(axis=0)
            p_value = _bonferroni(counts, np.full(len(counts), n), self.missing)
            return float(missing.mean(axis=0).max()), p_value, p_value < alpha
        if monitor == "out_of_range":
            with np.errstate(invalid="ignore"):
                outside = ((X < self.low) | (X > self.high)) & ~missing
            present = (~missing).sum(axis=0)
            p_value = _bonferroni(outside.sum(axis=0), present, 2.0 / (self.count + 1))
            share = outside.sum(axis=0) / np.maximum(present, 1)
            return float(share.max()), p_value, p_value < alpha
        if monitor == "constant_run":
            ratio = float((longest_runs(X) / self.longest_run).max())
            return ratio, float("nan"), ratio > 1.0
        raise ValueError(f"monitor={monitor!r} is not one of {list(QUALITY)}")
