"""The protocol every strategy follows, static or continuous."""

from __future__ import annotations

from collections.abc import Sequence
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

    ``n_updates`` counts learning steps (a River ``learn_one``, a gradient step), ``n_retrains``
    trainings from scratch. ``detections`` is ``None`` for a strategy without a drift detector;
    otherwise the positions, in the sequence of labels it has learned from (0-based), of the labels
    whose error made its detector fire. The replay loop maps them to stream time ``t``.
    """

    step: int
    n_updates: int
    n_retrains: int
    detections: list[int] | None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None: ...

    def prepare(self, X: np.ndarray) -> Sequence:
        """The deployment inputs (float32 ``(n, d)``) in the form ``predict_proba`` and ``learn`` take,
        made once before the loop, which hands them slices of it (torch: ``X`` itself; River: one
        feature dict per row, so that no row is converted inside the timed calls)."""

    def predict_proba(self, X: Sequence) -> np.ndarray:
        """``n`` inputs (a float32 ``(n, d)`` array or ``n`` prepared rows) in, ``(n, n_classes)``
        probabilities out (rows sum to 1)."""

    def learn(self, X: Sequence, y: np.ndarray) -> None:
        """Labelled samples whose predictions are already recorded, in time order."""

    def model_bytes(self) -> int:
        """Memory the strategy holds to predict and learn (torch: parameters, buffers, optimiser
        state and sample buffers; River: its own ``_raw_memory_usage``)."""

    def fingerprint(self) -> str | None:
        """SHA-256 of the weights a static strategy promises never to change; ``None`` if it learns."""


ATTRIBUTES = ("step", "n_updates", "n_retrains", "detections")  # may be set by the constructor
METHODS = ("fit_offline", "prepare", "predict_proba", "learn", "model_bytes", "fingerprint")  # on the class


def missing_members(obj) -> list[str]:
    """Protocol members ``obj`` lacks (empty when it can be replayed).

    >>> missing_members(object())[:3]
    ['step', 'n_updates', 'n_retrains']
    """
    return [name for name in (*ATTRIBUTES, *METHODS) if not hasattr(obj, name)]


def missing_methods(cls: type) -> list[str]:
    """Protocol methods the class ``cls`` lacks: what can be checked before building one.

    >>> missing_methods(dict)
    ['fit_offline', 'prepare', 'predict_proba', 'learn', 'model_bytes', 'fingerprint']
    """
    return [name for name in METHODS if not callable(getattr(cls, name, None))]
