"""Models a researcher might bring (``model=pretrained``), written and saved by the tests themselves.

The factories take no arguments, as ``model._target_`` calls them; every model fits the tiny teacher
stream of the tests (10 features, 3 classes) unless its name says otherwise.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

N_FEATURES, N_CLASSES = 10, 3


def mlp(n_features: int = N_FEATURES, n_classes: int = N_CLASSES) -> nn.Module:
    """A small ReLU MLP returning logits."""
    return nn.Sequential(nn.Linear(n_features, 16), nn.ReLU(), nn.Linear(16, n_classes))


def softmax_mlp() -> nn.Module:
    """The same MLP returning probabilities (``model.outputs=probs``)."""
    return nn.Sequential(mlp(), nn.Softmax(dim=1))


def wide() -> nn.Module:
    """An MLP whose hidden layer does not match :func:`mlp`'s state dict."""
    return nn.Sequential(nn.Linear(N_FEATURES, 64), nn.ReLU(), nn.Linear(64, N_CLASSES))


class Buffered(nn.Module):
    """A linear model whose weights are buffers: it has nothing a gradient step can train."""

    def __init__(self):
        super().__init__()
        self.register_buffer("weight", torch.randn(N_CLASSES, N_FEATURES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T


def not_a_module() -> dict:
    return {"weight": torch.zeros(3, 10)}


CALLED = []  # what the refused factories below append to when called: a test checks it stays empty


def unannotated():
    """A factory that says nothing of what it returns: refused without being called."""
    CALLED.append("unannotated")
    return mlp()


class Plain:
    """A class that is no torch module: refused without being built."""

    def __init__(self):
        CALLED.append("Plain")


def trained(net: nn.Module, X, y, *, seed: int, epochs: int = 30) -> nn.Module:
    """``net`` trained as a researcher might, elsewhere: full-batch Adam on the cross-entropy of
    ``(X, y)`` (float32 ``(n, d)``, int ``(n,)``), no early stopping; returned in eval mode."""
    torch.manual_seed(seed)
    for layer in net.modules():
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()
    X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(epochs):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        optimizer.step()
    return net.eval()


def export_program(net: nn.Module, path: Path, n_features: int = N_FEATURES) -> Path:
    """``net`` as a ``torch.export`` program with a dynamic batch dimension, saved at ``path``."""
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (torch.zeros(2, n_features),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    return path
