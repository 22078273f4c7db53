"""The legacy methodology: the model optimised before deployment, frozen, never updated."""

from __future__ import annotations

import numpy as np

from harness.models import predict_proba, tensor_bytes
from harness.offline.freeze import Pretrained
from harness.streams.base import OfflineData


class Frozen:
    """Serves the frozen, temperature-scaled network; ``learn`` ignores every label."""

    n_updates = 0

    def __init__(self, *, step: int = 256):
        self.step = step
        self.module = None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        self.module = pretrained.module

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return predict_proba(self.module, X).numpy().astype(np.float64)

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def model_bytes(self) -> int:
        return tensor_bytes(self.module)
