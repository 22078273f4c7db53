"""Continuous refinement: the frozen network's copy keeps learning from each labelled mini-batch."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from harness.models import predict_proba, tensor_bytes
from harness.offline.freeze import Pretrained
from harness.streams.base import OfflineData


class Finetune:
    """Starts from the pre-deployment weights (temperature kept) and takes one Adam step on the
    cross-entropy of every ``batch_size`` labelled samples; ``lr=None`` reuses the tuned rate."""

    def __init__(self, *, lr: float | None = None, batch_size: int = 32):
        self.lr = lr
        self.batch_size = batch_size
        self.step = batch_size
        self.n_updates = 0
        self.module = None
        self.optimizer = None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        self.module = copy.deepcopy(pretrained.module)
        self.module.net.requires_grad_(True)
        lr = self.lr if self.lr is not None else pretrained.params["lr"]
        self.optimizer = torch.optim.Adam(self.module.net.parameters(), lr=lr)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.module.eval()
        return predict_proba(self.module, X).numpy().astype(np.float64)

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        self.module.train()
        Xt = torch.as_tensor(X, dtype=torch.float32)
        yt = torch.as_tensor(y, dtype=torch.long)
        for start in range(0, len(yt), self.batch_size):
            batch = slice(start, start + self.batch_size)
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.module.logits(Xt[batch]), yt[batch]).backward()
            self.optimizer.step()
            self.n_updates += 1

    def model_bytes(self) -> int:
        return tensor_bytes(self.module, self.optimizer)
