"""Mini-batch gradient descent with early stopping on the validation split."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class TrainResult:
    net: nn.Module  # weights of the epoch with the lowest validation loss
    epochs: int  # epochs run before early stopping
    best_epoch: int
    val_loss: float
    val_accuracy: float


def evaluate(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the logits network ``net`` on ``(X, y)``."""
    net.eval()
    with torch.inference_mode():
        logits = net(X)
        loss = nn.functional.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy


def train_network(
    net: nn.Module,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    lr: float,
    batch_size: int,
    weight_decay: float,
    max_epochs: int,
    patience: int,
    seed: int,
    on_epoch: Callable[[int, float], bool] | None = None,
) -> TrainResult:
    """Train the logits network ``net`` with Adam on cross-entropy; stop after ``patience`` epochs
    without a lower validation loss and keep the best weights. ``on_epoch(epoch, val_loss)``, if
    given, is called after each epoch; when it returns True training stops there (a pruned trial)."""
    generator = torch.Generator().manual_seed(seed)
    Xt, yt = torch.as_tensor(X_train, dtype=torch.float32), torch.as_tensor(y_train, dtype=torch.long)
    Xv, yv = torch.as_tensor(X_val, dtype=torch.float32), torch.as_tensor(y_val, dtype=torch.long)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    best_loss, best_accuracy, best_epoch = float("inf"), float("nan"), 0
    best_state = copy.deepcopy(net.state_dict())
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        net.train()
        for batch in torch.randperm(len(Xt), generator=generator).split(batch_size):
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(Xt[batch]), yt[batch]).backward()
            optimizer.step()
        loss, accuracy = evaluate(net, Xv, yv)
        if loss < best_loss:
            best_loss, best_accuracy, best_epoch = loss, accuracy, epoch
            best_state = copy.deepcopy(net.state_dict())
        elif epoch - best_epoch >= patience:
            break
        if on_epoch is not None and on_epoch(epoch, loss):
            break
    net.load_state_dict(best_state)
    net.eval()
    return TrainResult(net, epoch, best_epoch, best_loss, best_accuracy)
