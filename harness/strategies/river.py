"""Any River classifier as a strategy, evaluated strictly test-then-train per sample."""

from __future__ import annotations

import functools

import numpy as np

from harness.offline.freeze import Pretrained
from harness.streams.base import OfflineData


@functools.cache
def feature_names(n_features: int) -> tuple[str, ...]:
    return tuple(f"x_{i}" for i in range(n_features))


def to_dicts(X: np.ndarray) -> list[dict]:
    """Rows as River's feature dicts ``{"x_0": ..., "x_{d-1}": ...}`` (Python floats)."""
    keys = feature_names(X.shape[1])
    return [dict(zip(keys, row)) for row in X.tolist()]


class RiverClassifier:
    """Adapts a River classifier (``predict_proba_one`` / ``learn_one``) to the strategy protocol.

    The warm start replays every offline sample through ``learn_one`` (train, then validation, in
    stream order), so it starts from the same evidence as the frozen model. Probabilities are mapped
    by class index; a class River has not seen gets 0, an empty answer becomes uniform.
    """

    step = 1

    def __init__(self, *, model, n_classes: int):
        self.model = model
        self.n_classes = n_classes
        self.n_updates = 0
        self._last: tuple[np.ndarray | None, list[dict]] = (None, [])

    def _rows(self, X: np.ndarray) -> list[dict]:
        # The loop hands the same block to predict_proba and then to learn: convert it once.
        if X is not self._last[0]:
            self._last = (X, to_dicts(X))
        return self._last[1]

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val)):
            for row, label in zip(to_dicts(X), y.tolist()):
                self.model.learn_one(row, label)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        # Plain Python per row: numpy calls on one-row arrays would cost more than River's prediction.
        k = self.n_classes
        out = []
        for row in self._rows(X):
            p = [0.0] * k
            for label, value in self.model.predict_proba_one(row).items():
                p[int(label)] = value
            total = sum(p)
            out.append([v / total for v in p] if total > 0 else [1.0 / k] * k)
        return np.array(out)

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        for row, label in zip(self._rows(X), y.tolist()):
            self.model.learn_one(row, label)
        self.n_updates += len(y)

    def model_bytes(self) -> int:
        return int(self.model._raw_memory_usage)
