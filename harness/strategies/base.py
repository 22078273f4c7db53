"""The protocol every strategy follows, static or continuous."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from harness.offline.freeze import Pretrained
from harness.streams.base import OfflineData


@runtime_checkable
class Strategy(Protocol):
    """A deployed model as the replay loop sees it.

    ``step`` is how many samples the strategy predicts in one call before the loop may hand it the
    labels that have arrived (1 = strictly per sample, as River learners are evaluated).
    ``fit_offline`` sees the same pre-deployment evidence as every other strategy: the offline data
    and the outcome of the pre-deployment optimisation (use either or both).
    """

    step: int
    n_updates: int

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None: ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Float32 ``(n, d)`` in, ``(n, n_classes)`` probabilities out (rows sum to 1)."""

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        """Labelled samples whose predictions are already recorded, in time order."""

    def model_bytes(self) -> int: ...
