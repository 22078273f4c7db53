"""Continuous refinement by retraining from scratch: on a schedule, or when a drift detector fires.

Both strategies serve the pre-deployment network until their first retraining, then the latest
retrained one. A retraining builds a fresh network with the hyper-parameters chosen before
deployment (no new search, see :mod:`harness.strategies.netfit`) on recent labelled samples, split
in time order: the oldest ``1 - val_fraction`` to train, the newest to early-stop and calibrate.
A researcher's own model (``model=pretrained``) is retrained from a copy of its original weights
instead of a fresh network (see :mod:`harness.strategies.netfit`).
"""

from __future__ import annotations

import inspect

import numpy as np
from river import base as river_base
from river import drift

from harness.offline.freeze import Pretrained
from harness.offline.models import predict_proba, tensor_bytes
from harness.strategies.base import BaseStrategy
from harness.strategies.netfit import chronological_split, fit_network
from harness.streams.base import OfflineData
from harness.validation import validate

DETECTORS = (river_base.DriftDetector, river_base.BinaryDriftDetector)  # what `detector` may be
EXPECTS_CORRECT = (drift.binary.FHDDM,)  # River detectors that fire on a drop of their input: feed 1 = correct


def detector_input(detector, error: bool) -> bool | float:
    """The value to feed ``detector`` for one prediction: 1 = error, except for the detectors in
    ``EXPECTS_CORRECT`` and their subclasses (1 = correct); a bool for River's binary detectors, a
    float otherwise.

    >>> detector_input(drift.binary.DDM(), True), detector_input(drift.binary.FHDDM(), True)
    (True, False)
    >>> detector_input(drift.ADWIN(), True)
    1.0
    """
    value = (not error) if isinstance(detector, EXPECTS_CORRECT) else bool(error)
    return bool(value) if isinstance(detector, river_base.BinaryDriftDetector) else float(value)


class Retraining(BaseStrategy):
    """Serving, memory and the retraining step both strategies share."""

    count_updates = False  # it counts the gradient steps of its retrainings
    _more_tags = {"family": "continuous", "needs_from_model": "weights"}  # a user's model: retrained from its weights

    def __init__(self, *, step, val_fraction, max_epochs, patience, calibrate, seed):
        self.step = validate.integer("step", step, 1)
        self.val_fraction = validate.number("val_fraction", val_fraction, 0, 1, low_open=True, high_open=True)
        self.max_epochs = validate.integer("max_epochs", max_epochs, 1)
        self.patience = validate.integer("patience", patience, 1)
        self.calibrate = validate.boolean("calibrate", calibrate)
        self.seed = validate.seed("seed", seed)
        self.module = None
        self.n_updates = 0
        self.n_retrains = 0

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        self.pretrained = pretrained
        self.module = pretrained.module
        self.n_updates = 0
        self.n_retrains = 0

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return predict_proba(self.module, X).numpy().astype(np.float64)

    def _retrain_seed(self) -> int:
        return self.seed * 1000 + 100 + self.n_retrains

    def _retrain(self, X: np.ndarray, y: np.ndarray) -> slice:
        """Train a fresh network on ``(X, y)`` split in time order; returns the validation slice."""
        train, val = chronological_split(len(y), self.val_fraction)
        self.module, steps = fit_network(
            X[train], y[train], X[val], y[val], pretrained=self.pretrained, max_epochs=self.max_epochs,
            patience=self.patience, calibrate=self.calibrate, seed=self._retrain_seed(),
        )
        self.n_retrains += 1
        self.n_updates += steps
        return val

    def _buffer_bytes(self) -> int:
        return 0

    def model_bytes(self) -> int:
        return tensor_bytes(self.module) + self._buffer_bytes()


class RetrainPeriodic(Retraining):
    """Every ``every`` labelled samples, retrain from scratch on the last ``window`` labelled samples
    (fewer before ``window`` have arrived). The window is a ring buffer of ``window`` rows, counted
    in the model's memory."""

    detections = None

    def __init__(
        self, *, every: int = 1000, window: int = 1000, step: int = 32, val_fraction: float = 0.25,
        max_epochs: int = 60, patience: int = 5, calibrate: bool = True, seed: int = 0,
    ):  # fmt: skip
        super().__init__(step=step, val_fraction=val_fraction, max_epochs=max_epochs, patience=patience,
                         calibrate=calibrate, seed=seed)  # fmt: skip
        self.every = validate.integer("every", every, 1)
        self.window = validate.integer("window", window, 2)

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        super().fit_offline(data, pretrained)
        self._X = np.zeros((self.window, data.X_train.shape[1]), dtype=data.X_train.dtype)
        self._y = np.zeros(self.window, dtype=np.int64)
        self._count = 0  # labelled samples ever pushed
        self._since = 0  # labelled samples since the last retraining

    def _push(self, X: np.ndarray, y: np.ndarray) -> None:
        slots = (self._count + np.arange(len(y))) % self.window
        self._X[slots], self._y[slots] = X, y
        self._count += len(y)

    def _last_window(self) -> tuple[np.ndarray, np.ndarray]:
        n = min(self._count, self.window)
        order = (self._count - n + np.arange(n)) % self.window
        return self._X[order], self._y[order]

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        start = 0
        while start < len(y):
            take = min(len(y) - start, self.every - self._since)
            self._push(X[start : start + take], y[start : start + take])
            self._since += take
            start += take
            if self._since == self.every:
                self._retrain(*self._last_window())
                self._since = 0

    def _buffer_bytes(self) -> int:
        return self._X.nbytes + self._y.nbytes


class RetrainTriggered(Retraining):
    """A River drift detector watches the served network's 0/1 error on each newly labelled sample;
    when it fires, the next ``min_samples`` labelled samples are gathered and a fresh network is
    trained on them, then the detector restarts from scratch. While gathering, the detector is paused
    and the old network keeps serving.

    ``detector`` is any River drift detector (default ``drift.ADWIN()``), fed 1 = error (see
    :func:`detector_input`); one that takes a ``seed`` and was given none gets ``seed``. The error is
    that of the network serving when the label arrives, which is the recorded prediction's unless a
    retraining happened in between (possible only with a label delay).
    """

    def __init__(
        self, *, detector=None, min_samples: int = 500, step: int = 32, val_fraction: float = 0.25,
        max_epochs: int = 60, patience: int = 5, calibrate: bool = True, seed: int = 0,
    ):  # fmt: skip
        super().__init__(step=step, val_fraction=val_fraction, max_epochs=max_epochs, patience=patience,
                         calibrate=calibrate, seed=seed)  # fmt: skip
        if detector is not None and not isinstance(detector, DETECTORS):
            raise ValueError(f"detector={type(detector).__name__} is not a River drift detector (river.drift.*)")
        self.detector = detector
        self.min_samples = validate.integer("min_samples", min_samples, 2)
        self.detections: list[int] = []

    def _fresh_detector(self):
        template = self.detector if self.detector is not None else drift.ADWIN()
        takes_seed = "seed" in inspect.signature(type(template)).parameters
        if takes_seed and getattr(template, "seed", None) is None:
            return template.clone({"seed": self.seed})
        return template.clone()

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        super().fit_offline(data, pretrained)
        self._detector = self._fresh_detector()
        self.detections = []
        self._seen = 0  # labelled samples learned from so far
        self._gathered: list[tuple[np.ndarray, np.ndarray]] | None = None  # None: watching

    def _errors(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1) != y

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        i, errors, offset = 0, None, 0
        while i < len(y):
            if self._gathered is not None:
                have = sum(len(part) for _, part in self._gathered)
                take = min(len(y) - i, self.min_samples - have)
                self._gathered.append((X[i : i + take], y[i : i + take]))
                i += take
                if have + take == self.min_samples:
                    self._retrain(np.concatenate([a for a, _ in self._gathered]),
                                  np.concatenate([b for _, b in self._gathered]))  # fmt: skip
                    self._gathered, errors = None, None
                    self._detector = self._fresh_detector()
                continue
            if errors is None:
                errors, offset = self._errors(X[i:], y[i:]), i
            self._detector.update(detector_input(self._detector, errors[i - offset]))
            if self._detector.drift_detected:
                self.detections.append(self._seen + i)
                self._gathered = []
            i += 1
        self._seen += len(y)

    def _buffer_bytes(self) -> int:
        gathered = sum(a.nbytes + b.nbytes for a, b in self._gathered or [])
        return gathered + int(self._detector._raw_memory_usage)
