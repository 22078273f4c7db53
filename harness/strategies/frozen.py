"""The legacy methodology: the model optimised before deployment, frozen, never updated."""

from __future__ import annotations

import numpy as np

from harness.offline.freeze import Pretrained
from harness.offline.models import Calibrated, freeze, predict_proba, tensor_bytes, weights_sha256
from harness.strategies.base import BaseStrategy
from harness.streams.base import OfflineData
from harness.validation import validate


class Frozen(BaseStrategy):
    """Serves the frozen network; ``learn`` ignores every label.

    ``calibrated=True`` serves the shipped artifact (temperature-scaled); ``False`` serves the same
    frozen weights at temperature 1, to show what calibration buys under drift.
    """

    count_updates = False  # it never updates
    _more_tags = {"family": "static"}

    def __init__(self, *, step: int = 256, calibrated: bool = True):
        self.step = validate.integer("step", step, 1)
        self.calibrated = validate.boolean("calibrated", calibrated)
        self.module = None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        module = pretrained.module
        self.module = module if self.calibrated else freeze(Calibrated(module.net, 1.0))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return predict_proba(self.module, X).numpy().astype(np.float64)

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def model_bytes(self) -> int:
        return tensor_bytes(self.module)

    def fingerprint(self) -> str:
        return weights_sha256(self.module)
