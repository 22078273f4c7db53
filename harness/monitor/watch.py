"""The label-free side of monitoring: reference statistics from the offline data, then windowed
shift tests, accuracy estimates and per-sample novelty scores on the deployment inputs.

Nothing here takes a deployment label: :func:`watch` sees the deployment inputs and the frozen
model only. Validation labels are offline data, known before deployment, and may be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from harness.monitor import estimates, novelty
from harness.monitor.cbpe import CBPE
from harness.monitor.quality import QUALITY, QualityReference
from harness.offline.models import Calibrated
from harness.offline.outputs import Outputs, model_outputs
from harness.scores import shift
from harness.streams.base import OfflineData
from harness.streams.tokens import bag_of_words, offline_vocabulary

DETECTORS = ("ks_inputs", "mmd_inputs", "bbsd", "confidence", *QUALITY)
ESTIMATORS = ("cbpe", "mean_confidence", "atc", "doc")
SCORES = ("msp", "energy", "mahalanobis")
_MMD_SUBSAMPLE, _MMD_PERMUTE = 1, 2  # purposes of the seeded generators
CHUNK = 65_536  # samples per forward pass: penultimate features of 64 float64 units take 32 MiB


@dataclass(frozen=True)
class Reference:
    """What the monitor knows before deployment: the validation inputs ``X`` as the input-space
    detectors read them (:meth:`inputs`), the frozen model's ``outputs`` on them, its validation
    ``accuracy``, the ATC threshold, the CBPE calibration (fitted on the validation outputs and
    labels), the class Gaussians of the training split's penultimate features and, on a token
    stream, the offline ``vocabulary`` (``None`` on a feature stream)."""

    X: np.ndarray
    outputs: Outputs
    accuracy: float
    atc_threshold: float
    cbpe: CBPE
    gaussians: novelty.ClassGaussians
    quality: QualityReference
    vocabulary: np.ndarray | None = None

    @classmethod
    def build(cls, module: Calibrated, offline: OfflineData, n_classes: int, *, tokens: bool = False) -> "Reference":
        """``tokens``: the rows are token ids (the stream's tag ``inputs == "tokens"``), read by the input-space
        detectors as bags of words over the offline vocabulary (:mod:`harness.streams.tokens`)."""
        outputs = model_outputs(module, offline.X_val)
        accuracy = float(np.mean(outputs.proba.argmax(axis=1) == offline.y_val))
        train_features = model_outputs(module, offline.X_train).features
        vocabulary = offline_vocabulary(offline.X_train, offline.X_val) if tokens else None
        return cls(
            X=offline.X_val if vocabulary is None else bag_of_words(offline.X_val, vocabulary),
            outputs=outputs,
            accuracy=accuracy,
            atc_threshold=estimates.atc_threshold(outputs.confidence, accuracy),
            cbpe=CBPE.fit(outputs.proba, offline.y_val),
            gaussians=novelty.fit_class_gaussians(train_features, offline.y_train, n_classes),
            quality=QualityReference.build(offline.X_train, offline.X_val),
            vocabulary=vocabulary,
        )

    @cached_property
    def mean(self) -> np.ndarray:
        """``(d,)`` the validation mean of each column of ``X``: what the MMD puts for a missing value."""
        return self.X.mean(axis=0)

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """Deployment rows ``(n, d)`` as the input-space detectors read them: themselves, or on a token
        stream their bag of words ``(n, V + 1)`` (the last column counts out-of-vocabulary tokens)."""
        return X if self.vocabulary is None else bag_of_words(X, self.vocabulary)

    def describe_inputs(self) -> str:
        """What ``ks_inputs`` and ``mmd_inputs`` read, for ``result.json``."""
        if self.vocabulary is None:
            return "the inputs"
        return (f"bag of words: counts of the {len(self.vocabulary)} offline token ids and of the tokens "
                "outside them (token ids are names, not numbers)")


@dataclass(frozen=True)
class LabelFree:
    """What :func:`watch` saw: ``alarms`` (one row per detector and window), ``estimates`` (one row
    per estimator and window), ``scores`` (name -> ``(n,)`` per-sample novelty score), and per sample
    the model's ``predicted`` class ``(n,)`` and ``confidence`` ``(n,)`` (its largest probability).
    Per-sample features and probabilities are not kept: a window's live only while it is watched."""

    alarms: pd.DataFrame
    estimates: pd.DataFrame
    scores: dict[str, np.ndarray]
    predicted: np.ndarray
    confidence: np.ndarray


def window_bounds(n: int, window: int) -> list[tuple[int, int]]:
    """Consecutive ``[start, end)`` windows of ``window`` samples; the last may be shorter.

    >>> window_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    return [(start, min(start + window, n)) for start in range(0, n, window)]


def detect_window(
    detector: str,
    reference: Reference,
    X: np.ndarray,
    outputs: Outputs,
    *,
    mmd_X: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """``(statistic, p_value)`` of one shift test on one window of inputs ``X`` and model ``outputs``.
    A missing input value (NaN) is left out of its feature's KS test and, for the MMD, replaced by the
    validation mean of its feature (the value the frozen network imputes)."""
    if detector == "ks_inputs":
        return shift.ks_inputs(reference.X, X)
    if detector == "mmd_inputs":
        if np.isnan(X).any():
            X = np.where(np.isnan(X), reference.mean, X)
        return shift.mmd_permutation(mmd_X, X, n_permutations=n_permutations, rng=rng)
    if detector == "bbsd":
        return shift.bbsd(reference.outputs.proba, outputs.proba)
    if detector == "confidence":
        return shift.confidence_test(reference.outputs.confidence, outputs.confidence)
    raise ValueError(f"detector={detector!r} is not one of {list(DETECTORS)}")


def estimate_window(estimator: str, reference: Reference, outputs: Outputs) -> float:
    """One estimator's accuracy estimate for a window's model ``outputs`` (CBPE reads every class's
    probability, the others the confidence)."""
    confidence = outputs.confidence
    if estimator == "cbpe":
        return reference.cbpe.estimate(outputs.proba)
    if estimator == "mean_confidence":
        return estimates.mean_confidence(confidence)
    if estimator == "atc":
        return estimates.atc(confidence, reference.atc_threshold)
    if estimator == "doc":
        return estimates.doc(confidence, reference.accuracy, float(reference.outputs.confidence.mean()))
    raise ValueError(f"estimator={estimator!r} is not one of {list(ESTIMATORS)}")


def novelty_scores(outputs: Outputs, reference: Reference, names=SCORES) -> dict[str, np.ndarray]:
    """Per-sample scores by name, each ``(n,)``, higher = less certain."""
    functions = {
        "msp": lambda: novelty.msp(outputs),
        "energy": lambda: novelty.energy(outputs),
        "mahalanobis": lambda: novelty.mahalanobis(outputs, reference.gaussians),
    }
    return {name: functions[name]() for name in names}


def chunk_bounds(n: int, window: int, chunk: int) -> list[tuple[int, int]]:
    """Consecutive ``[start, end)`` chunks of whole windows, each of at least one window and at most
    ``chunk`` samples where a window fits: the unit of one forward pass of :func:`watch`.

    >>> chunk_bounds(10, 3, 7)
    [(0, 6), (6, 10)]
    """
    size = max(1, chunk // window) * window
    return [(start, min(start + size, n)) for start in range(0, n, size)]


class _Windows:
    """Each window's alarms and estimates as numbers in arrays, one row per window (a few dozen bytes a
    window, where a dict per row would take hundreds), turned into the two tables at the end."""

    def __init__(self, n: int, window: int, detectors, estimators):
        self.detectors, self.estimators = list(detectors), list(estimators)
        self.starts = np.arange(0, n, window)
        self.ends = np.minimum(self.starts + window, n)
        size = (len(self.starts), len(self.detectors))
        self.statistic, self.p_value, self.alarm = np.empty(size), np.empty(size), np.zeros(size, dtype=bool)
        self.estimated = np.empty((len(self.starts), len(self.estimators)))

    def alarms(self) -> pd.DataFrame:
        """One row per window and detector, the detectors of a window together, in time order."""
        k = len(self.detectors)
        return pd.DataFrame(
            {"detector": np.tile(np.array(self.detectors, dtype=object), len(self.starts)),
             "t_start": np.repeat(self.starts, k), "t_end": np.repeat(self.ends, k), "t": np.repeat(self.ends - 1, k),
             "statistic": self.statistic.ravel(), "p_value": self.p_value.ravel(), "alarm": self.alarm.ravel()},
            columns=["detector", "t_start", "t_end", "t", "statistic", "p_value", "alarm"],
        )

    def estimates(self) -> pd.DataFrame:
        """One row per window and estimator."""
        k = len(self.estimators)
        return pd.DataFrame(
            {"t_start": np.repeat(self.starts, k), "t_end": np.repeat(self.ends, k),
             "estimator": np.tile(np.array(self.estimators, dtype=object), len(self.starts)),
             "estimated_accuracy": self.estimated.ravel()},
            columns=["t_start", "t_end", "estimator", "estimated_accuracy"],
        )


def watch(
    module: Calibrated,
    reference: Reference,
    X: np.ndarray,
    *,
    window: int,
    alpha: float,
    seed: int,
    detectors=DETECTORS,
    estimators=ESTIMATORS,
    scores=SCORES,
    n_permutations: int = 100,
    mmd_reference: int = 500,
    chunk: int = CHUNK,
) -> LabelFree:
    """Monitor the deployment inputs ``X`` ``(n, d)`` served by the frozen ``module``, window by
    window, against ``reference``. A window alarms when its p-value is below ``alpha``; its alarm
    time ``t`` is its last sample (the first moment the whole window is seen). MMD compares each
    window with ``mmd_reference`` validation samples drawn once (the kernel matrix grows with the
    square of the pooled size). The model runs over ``chunk`` samples at a time (whole windows), so
    memory does not grow with the stream beyond a few numbers per sample; a stream of at most
    ``chunk`` samples is one forward pass."""
    pick = np.random.default_rng([seed, _MMD_SUBSAMPLE])
    size = min(mmd_reference, len(reference.X))
    mmd_X = reference.X[np.sort(pick.choice(len(reference.X), size=size, replace=False))]
    n = len(X)
    kept = {name: np.empty(n) for name in scores}
    # the smallest integer type that holds a class index: 1 byte a sample up to 256 classes
    predicted = np.empty(n, dtype=np.min_scalar_type(max(0, reference.outputs.proba.shape[1] - 1)))
    confidence = np.empty(n)
    rows = _Windows(n, window, detectors, estimators)
    for chunk_start, chunk_end in chunk_bounds(n, window, chunk):
        outputs = model_outputs(module, X[chunk_start:chunk_end])
        inputs = reference.inputs(X[chunk_start:chunk_end])
        for a, b in window_bounds(chunk_end - chunk_start, window):  # chunks hold whole windows
            start, end, part = chunk_start + a, chunk_start + b, outputs[a:b]
            w = start // window
            for j, detector in enumerate(rows.detectors):
                if detector in QUALITY:  # data quality reads the values as they arrived
                    statistic, p_value, alarm = reference.quality.check(detector, X[start:end], alpha)
                else:
                    rng = np.random.default_rng([seed, _MMD_PERMUTE, w])
                    statistic, p_value = detect_window(
                        detector, reference, inputs[a:b], part, mmd_X=mmd_X, n_permutations=n_permutations, rng=rng
                    )
                    alarm = p_value < alpha
                rows.statistic[w, j], rows.p_value[w, j], rows.alarm[w, j] = statistic, p_value, bool(alarm)
            for j, estimator in enumerate(rows.estimators):
                rows.estimated[w, j] = estimate_window(estimator, reference, part)
        for name, values in novelty_scores(outputs, reference, scores).items():
            kept[name][chunk_start:chunk_end] = values
        predicted[chunk_start:chunk_end] = outputs.proba.argmax(axis=1)
        confidence[chunk_start:chunk_end] = outputs.confidence
    return LabelFree(rows.alarms(), rows.estimates(), kept, predicted, confidence)
