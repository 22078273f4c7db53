"""Confidence-based performance estimation (CBPE) of accuracy, as NannyML computes it.

CBPE (NannyML; Peng et al.) trusts probabilities only once they are calibrated on data with labels.
On the reference (the offline validation split, labels known before deployment) it fits one
isotonic regression per class, one-vs-rest, from the model's probability of that class to whether
the label is that class; a binary model has a single one, on the positive class (class 1). A window's
expected accuracy is then the mean calibrated probability of the class the model predicts (the
argmax of its own, uncalibrated, probabilities: what it serves).

Matched to NannyML 0.13.1 (``nannyml.calibration``, ``nannyml.performance_estimation.
confidence_based``), including when it leaves a class uncalibrated (:func:`needs_calibration`) and
how rows of the multiclass calibrated probabilities are normalised; ``tests/data/nannyml_cbpe``
holds NannyML's own per-chunk estimates on a run of the harness, which the tests compare with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# NannyML's calibration check: 10 stratified splits holding out 10%, its fixed split seed (a constant
# of the method, so that whether a class is calibrated is decided as NannyML decides it), ECE on 10 bins
_SPLITS, _TEST_SIZE, _SPLIT_SEED, _BINS = 10, 0.1, 42, 10


def _isotonic():
    from sklearn.isotonic import IsotonicRegression  # scikit-learn is imported only when CBPE is fitted

    return IsotonicRegression(out_of_bounds="clip", increasing=True)


def expected_calibration_error(is_class: np.ndarray, score: np.ndarray, n_bins: int = _BINS) -> float:
    """ECE over ``n_bins`` equal-count bins of the sorted scores (NannyML's: the last bin takes the
    remainder; fewer bins when there are at most ``2 n_bins`` scores).

    >>> round(expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]), n_bins=2), 12)
    0.25
    """
    n = len(score)
    n_bins = n // 2 if n <= 2 * n_bins else n_bins
    width = n // n_bins
    edges = np.asarray(range(0, n + 1, width))
    edges[-1] = n
    order = np.asarray(score).argsort()
    score, is_class = np.asarray(score)[order], np.asarray(is_class)[order]
    terms = [(b - a) / n * abs(score[a:b].mean() - is_class[a:b].mean()) for a, b in zip(edges[:-1], edges[1:])]
    return float(np.sum(terms))


def needs_calibration(is_class: np.ndarray, score: np.ndarray) -> bool:
    """Whether isotonic calibration of ``score`` ``(n,)`` for the 0/1 target ``is_class`` lowers the
    ECE on held-out data (pooled over NannyML's 10 stratified 90/10 splits). Not when the target has
    one value (a class absent from the reference: nothing to calibrate against) or when the score
    already separates it (AUROC > 0.999), as in NannyML; nor, where NannyML would raise, when the
    splits cannot be made (a class with a single sample, or fewer than 20 samples: a 10% test part
    of at least one of each): too few to tell whether calibration helps."""
    is_class, score = np.asarray(is_class), np.asarray(score)
    if len(np.unique(is_class)) == 1:
        return False
    if np.bincount(is_class, minlength=2).min() < 2 or len(is_class) < 20:
        return False
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedShuffleSplit

    if roc_auc_score(is_class, score) > 0.999:
        return False
    splits = StratifiedShuffleSplit(n_splits=_SPLITS, test_size=_TEST_SIZE, random_state=_SPLIT_SEED)
    truth, raw, calibrated = [], [], []
    for train, test in splits.split(score, is_class):
        regressor = _isotonic().fit(score[train], is_class[train])
        truth.append(is_class[test])
        raw.append(score[test])
        calibrated.append(regressor.predict(score[test]))
    truth, raw, calibrated = np.concatenate(truth), np.concatenate(raw), np.concatenate(calibrated)
    return expected_calibration_error(truth, raw) > expected_calibration_error(truth, calibrated)


@dataclass(frozen=True)
class CBPE:
    """The fitted calibration: ``calibrators[j]`` maps the probability of column ``j`` (of class 1
    only when the model is binary) to a calibrated one, ``None`` where NannyML would leave it as is."""

    n_classes: int
    calibrators: tuple  # sklearn IsotonicRegression or None per column

    @classmethod
    def fit(cls, proba: np.ndarray, y: np.ndarray) -> "CBPE":
        """Fit on the reference: probabilities ``proba`` ``(n, K)`` and labels ``y`` ``(n,)``."""
        proba, y = np.asarray(proba, dtype=float), np.asarray(y)
        n_classes = proba.shape[1]
        columns = [1] if n_classes == 2 else range(n_classes)
        calibrators = []
        for j in columns:
            is_class = (y == j).astype(int)
            fitted = _isotonic().fit(proba[:, j], is_class) if needs_calibration(is_class, proba[:, j]) else None
            calibrators.append(fitted)
        return cls(n_classes, tuple(calibrators))

    def calibrate(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities ``(n, K)``: binary, ``[1 - c, c]`` with ``c`` the calibrated
        probability of class 1; multiclass, each column calibrated one-vs-rest, then each row divided
        by its sum (uniform where every calibrated probability is 0)."""
        proba = np.asarray(proba, dtype=float)
        apply = [lambda p, c=c: p if c is None else c.predict(p) for c in self.calibrators]
        if self.n_classes == 2:
            positive = apply[0](proba[:, 1])
            return np.column_stack([1.0 - positive, positive])
        calibrated = np.column_stack([f(proba[:, j]) for j, f in enumerate(apply)])
        total = calibrated.sum(axis=1, keepdims=True)
        uniform = np.full_like(calibrated, 1.0 / self.n_classes)
        return np.divide(calibrated, total, out=uniform, where=total != 0)

    def estimate(self, proba: np.ndarray) -> float:
        """Expected accuracy of a window: the mean calibrated probability of the predicted class,
        the argmax of the model's own probabilities ``proba`` ``(n, K)``."""
        proba = np.asarray(proba, dtype=float)
        predicted = proba.argmax(axis=1)
        return float(np.mean(self.calibrate(proba)[np.arange(len(proba)), predicted]))
