"""Label-free accuracy estimates of a window from the frozen model's confidences alone.

- CBPE, confidence-based performance estimation (NannyML), calibrates on the reference first: see
  :mod:`harness.monitor.cbpe`.
- Mean confidence: the window's mean max-probability as the model states it, not recalibrated; the
  accuracy only while the model stays calibrated on the deployment data.
- ATC, average thresholded confidence (Garg et al., ICLR 2022): the threshold ``t`` on validation
  confidence whose exceedance rate equals validation accuracy; the estimate is the window's share of
  confidences above ``t``.
- DoC, difference of confidences (Guillory et al., ICCV 2021): validation accuracy minus the drop in
  mean confidence from the validation split to the window.
"""

from __future__ import annotations

import numpy as np


def mean_confidence(confidence: np.ndarray) -> float:
    """Mean max-probability of a window's ``(n,)`` confidences, taken at face value: the probabilities
    the model serves (temperature-scaled on the validation split when ``offline.calibrate`` is on),
    with no per-class recalibration (that is :class:`harness.monitor.cbpe.CBPE`). A baseline: it is
    the accuracy only while the model stays calibrated on the deployment data.

    >>> mean_confidence(np.array([0.9, 0.6]))
    0.75
    """
    return float(np.mean(confidence))


def atc_threshold(val_confidence: np.ndarray, val_accuracy: float) -> float:
    """The threshold ``t`` such that the share of validation confidences ``> t`` is ``val_accuracy``
    (to within one sample): the ``k``-th smallest confidence, ``k = round((1 - acc) n)``.

    >>> atc_threshold(np.array([0.9, 0.5, 0.7, 0.6, 0.8]), 0.6)
    0.6
    """
    ordered = np.sort(np.asarray(val_confidence, dtype=float))
    k = int(round((1.0 - val_accuracy) * len(ordered)))
    return float(ordered[k - 1]) if k >= 1 else -np.inf


def atc(confidence: np.ndarray, threshold: float) -> float:
    """Share of a window's confidences above the ATC threshold.

    >>> atc(np.array([0.55, 0.65, 0.95, 0.3]), 0.6)
    0.5
    """
    return float(np.mean(np.asarray(confidence) > threshold))


def doc(confidence: np.ndarray, val_accuracy: float, val_mean_confidence: float) -> float:
    """Validation accuracy minus (validation mean confidence - window mean confidence).

    >>> round(doc(np.array([0.6, 0.8]), 0.8, 0.85), 10)
    0.65
    """
    return float(val_accuracy - (val_mean_confidence - np.mean(confidence)))
