"""Continuous refinement: the frozen network's copy keeps learning from each labelled mini-batch."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from harness.offline.freeze import Pretrained
from harness.offline.models import predict_proba, tensor_bytes
from harness.strategies.base import BaseStrategy
from harness.streams.base import OfflineData
from harness.validation import validate


class Finetune(BaseStrategy):
    """Starts from the pre-deployment weights (temperature kept) and takes one Adam step on the
    cross-entropy of every ``batch_size`` labelled samples; ``lr=None`` reuses the tuned rate (for a
    researcher's own model, ``model=pretrained``: its weights, and ``model.lr``).

    Replay (against forgetting): with ``replay_share > 0`` each step's mini-batch also holds
    pre-deployment samples, drawn at random from a buffer of ``replay_size`` offline samples kept
    from ``fit_offline``, so that they make up ``replay_share`` of the mixed batch
    (``round(b * share / (1 - share))`` of them next to ``b`` new ones). The buffer counts in the
    model's memory. Draws are seeded by ``seed``.
    """

    count_updates = False  # it counts its gradient steps
    _more_tags = {"family": "continuous", "needs_from_model": "weights"}  # a user's model: trainable parameters

    def __init__(
        self, *, lr: float | None = None, batch_size: int = 32, replay_share: float = 0.0,
        replay_size: int = 1000, seed: int = 0,
    ):  # fmt: skip
        self.lr = lr if lr is None else validate.learning_rate("lr", lr)
        self.batch_size = validate.integer("batch_size", batch_size, 1)
        self.replay_share = validate.number("replay_share", replay_share, 0, 1, high_open=True)
        self.replay_size = validate.integer("replay_size", replay_size, 1)
        self.seed = validate.seed("seed", seed)
        self.step = batch_size
        self.n_updates = 0
        self.module = None
        self.optimizer = None
        self._replay_X = self._replay_y = None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        self.module = copy.deepcopy(pretrained.module)
        self.module.net.requires_grad_(True)
        lr = self.lr if self.lr is not None else pretrained.params["lr"]
        self.optimizer = torch.optim.Adam(self.module.net.parameters(), lr=lr)
        self.n_updates = 0
        self._rng = np.random.default_rng([self.seed, 31])
        self._replay_X = self._replay_y = None
        if self.replay_share > 0:
            X = np.concatenate([data.X_train, data.X_val])
            y = np.concatenate([data.y_train, data.y_val])
            keep = self._rng.choice(len(y), size=min(self.replay_size, len(y)), replace=False)
            self._replay_X = torch.as_tensor(X[keep], dtype=torch.float32)
            self._replay_y = torch.as_tensor(y[keep], dtype=torch.long)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.module.training:  # eval() walks every submodule: a tenth of a one-request call
            self.module.eval()
        return predict_proba(self.module, X).numpy().astype(np.float64)

    def _mixed(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._replay_X is None:
            return X, y
        n_old = int(round(len(y) * self.replay_share / (1 - self.replay_share)))
        old = torch.as_tensor(self._rng.integers(0, len(self._replay_y), size=n_old))
        return torch.cat([X, self._replay_X[old]]), torch.cat([y, self._replay_y[old]])

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        self.module.train()
        Xt = torch.as_tensor(X, dtype=torch.float32)
        yt = torch.as_tensor(y, dtype=torch.long)
        for start in range(0, len(yt), self.batch_size):
            batch_X, batch_y = self._mixed(Xt[start : start + self.batch_size], yt[start : start + self.batch_size])
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.module.logits(batch_X), batch_y).backward()
            self.optimizer.step()
            self.n_updates += 1

    def model_bytes(self) -> int:
        replay = 0 if self._replay_X is None else self._replay_X.nbytes + self._replay_y.nbytes
        return tensor_bytes(self.module, self.optimizer) + replay
