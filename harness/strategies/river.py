"""Any River classifier as a strategy, evaluated strictly test-then-train per sample."""

from __future__ import annotations

import numpy as np

from harness.offline.freeze import Pretrained
from harness.streams.base import OfflineData


def feature_names(n_features: int) -> list[str]:
    return [f"x_{i}" for i in range(n_features)]


def to_dicts(X: np.ndarray) -> list[dict]:
    """Rows as River's feature dicts ``{"x_0": ..., "x_{d-1}": ...}`` (Python floats)."""
    keys = feature_names(X.shape[1])
    return [dict(zip(keys, row)) for row in X.tolist()]


class RiverClassifier:
    """Adapts a River classifier (``predict_proba_one`` / ``learn_one``) to the strategy protocol.

    The warm start (``warm_start=True``) replays every offline sample through ``learn_one`` (train,
    then validation, in stream order), so it starts from the same evidence as the frozen model. Probabilities are mapped
    by class index; a class River has not seen gets 0, an empty answer becomes uniform.
    """

    step = 1
    n_retrains = 0
    detections = None

    def __init__(self, *, model, n_classes: int, warm_start: bool = True):
        self.model = model
        self.n_classes = n_classes
        self.warm_start = warm_start
        self.n_updates = 0
        self._last: tuple[np.ndarray | None, list[dict]] = (None, [])

    def _rows(self, X: np.ndarray) -> list[dict]:
        # The loop hands the same block to predict_proba and then to learn: convert it once.
        if X is not self._last[0]:
            self._last = (X, to_dicts(X))
        return self._last[1]

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        if not self.warm_start:
            return
        for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val)):
            for row, label in zip(to_dicts(X), y.tolist()):
                self.model.learn_one(row, label)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.n_classes))
        uniform = [1.0 / self.n_classes] * self.n_classes
        for i, row in enumerate(self._rows(X)):
            p = [0.0] * self.n_classes
            for label, value in self.model.predict_proba_one(row).items():
                p[int(label)] = value
            total = sum(p)
            out[i] = [v / total for v in p] if total > 0 else uniform
        return out

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        for row, label in zip(self._rows(X), y.tolist()):
            self.model.learn_one(row, label)
        self.n_updates += len(y)

    def model_bytes(self) -> int:
        return int(self.model._raw_memory_usage)

    def fingerprint(self) -> None:
        return None
