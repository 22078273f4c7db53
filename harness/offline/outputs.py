"""What a label-free monitor may look at: the frozen model's outputs on inputs, never a label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from harness.offline.models import Calibrated
from harness.offline.text_model import TextNet
from harness.offline.user import UserNet


@dataclass(frozen=True)
class Outputs:
    """The frozen model on ``n`` inputs: ``proba`` ``(n, K)`` calibrated probabilities, ``logits``
    ``(n, K)`` raw logits of ``net`` (temperature 1, as the energy score is defined), ``features``
    ``(n, h)`` the penultimate layer (the inputs themselves for a linear model or a user's own model)."""

    proba: np.ndarray
    logits: np.ndarray
    features: np.ndarray

    @property
    def confidence(self) -> np.ndarray:
        """``(n,)`` the largest class probability."""
        return self.proba.max(axis=1)

    def __getitem__(self, index) -> "Outputs":
        return Outputs(self.proba[index], self.logits[index], self.features[index])


def penultimate(net: nn.Module) -> nn.Module:
    """The layers before the last linear one: all but the last of an ``nn.Sequential`` MLP, the
    identity for a single ``nn.Linear`` (a logistic model's penultimate layer is its input)."""
    if isinstance(net, nn.Sequential):
        return net[:-1]
    if isinstance(net, nn.Linear) or isinstance(net, UserNet):
        return nn.Identity()  # a user's model (model=pretrained) does not say which layer is its last
    raise TypeError(f"no penultimate layer known for {type(net).__name__}; expected nn.Sequential or nn.Linear")


def model_outputs(module: Calibrated, X: np.ndarray) -> Outputs:
    """One forward pass of the frozen ``module`` over float32 ``X`` ``(n, d)``."""
    with torch.inference_mode():
        x = torch.as_tensor(X, dtype=torch.float32)
        if isinstance(module.net, TextNet):  # model=text: the pooled embeddings through the hidden layers
            features = module.net.features(x)
            logits = module.net.head[-1](features)
        else:
            features = penultimate(module.net)(x)
            logits = module.net[-1](features) if isinstance(module.net, nn.Sequential) else module.net(x)
        proba = torch.softmax(logits / module.temperature, dim=1)
    return Outputs(proba.double().numpy(), logits.double().numpy(), features.double().numpy())
