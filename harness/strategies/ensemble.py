"""The static side at its most robust: a deep ensemble of independently trained, frozen networks."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from harness.offline.freeze import Pretrained
from harness.offline.models import predict_proba, tensor_bytes, weights_sha256
from harness.strategies.base import BaseStrategy
from harness.strategies.netfit import fit_network_once
from harness.streams.base import OfflineData
from harness.validation import validate


class FrozenEnsemble(BaseStrategy):
    """``n_members`` networks trained before deployment on the offline train split (early-stopped on
    its validation split) with the hyper-parameters the search chose, each from its own seed
    (initialisation and batch order); the served probabilities are their average. Frozen: ``learn``
    ignores every label.

    A researcher's own model (``model=pretrained``) gives its members through its factory
    (``model._target_``), each freshly initialised; a ``torch.export`` program cannot and is refused.

    ``calibrate=False`` (default) follows the deep-ensembles recipe (Lakshminarayanan et al. 2017, as
    evaluated under shift by Ovadia et al. 2019): members at temperature 1, averaged. ``True`` fits
    each member's temperature on the validation split first.
    """

    count_updates = False  # it never updates
    _more_tags = {"family": "static", "needs_from_model": "factory"}  # a user's model: fresh members from model._target_

    def __init__(
        self, *, n_members: int = 5, step: int = 256, calibrate: bool = False, max_epochs: int = 60,
        patience: int = 5, seed: int = 0,
    ):  # fmt: skip
        self.n_members = validate.integer("n_members", n_members, 1)
        self.step = validate.integer("step", step, 1)
        self.calibrate = validate.boolean("calibrate", calibrate)
        self.max_epochs = validate.integer("max_epochs", max_epochs, 1)
        self.patience = validate.integer("patience", patience, 1)
        self.seed = validate.seed("seed", seed)
        self.members: list[torch.nn.Module] = []

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        self.members = [
            fit_network_once(
                data.X_train, data.y_train, data.X_val, data.y_val, pretrained=pretrained,
                max_epochs=self.max_epochs, patience=self.patience, calibrate=self.calibrate,
                seed=self.seed * 1000 + 700 + m, reinitialise=True,
            )[0]
            for m in range(self.n_members)
        ]  # fmt: skip

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        total = sum(predict_proba(member, X).numpy().astype(np.float64) for member in self.members)
        return total / len(self.members)

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def model_bytes(self) -> int:
        return sum(tensor_bytes(member) for member in self.members)

    def fingerprint(self) -> str:
        """SHA-256 over the members' own hashes, in order."""
        return hashlib.sha256("".join(weights_sha256(m) for m in self.members).encode()).hexdigest()
