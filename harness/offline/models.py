"""Torch networks of the pre-deployment pipeline, and what is measured on them."""

from __future__ import annotations

import hashlib
import weakref

import numpy as np
import torch
from torch import nn

from harness.offline.text_model import build_text_network
from harness.validation.errors import ConfigError

MODEL_KINDS = ("mlp", "logistic", "text")


FITTED_ON = "offline training split"  # where the input scaler's statistics come from (result.json says so)


MISSING = "imputed with the offline training mean (0 after standardising)"  # result.json: preprocessing


def standardize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std``, a missing value (NaN) put at 0, the offline training mean: the one formula
    of :class:`Standardize` and of the fast path, so every torch strategy imputes alike."""
    z = (x - mean) / std
    return torch.nan_to_num(z, nan=0.0, posinf=float("inf"), neginf=float("-inf"))


class Standardize(nn.Module):
    """Per-feature ``(x - mean) / std`` with fixed statistics (buffers, so they are in the state dict,
    the weight SHA-256 and the exported program, and no optimiser moves them).

    The statistics are those of the offline training split (:meth:`fit`): every network the harness
    trains for a run, before or after deployment, sees its inputs through the same affine map."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, dtype=np.float32)))
        self.register_buffer("std", torch.as_tensor(np.asarray(std, dtype=np.float32)))

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardize:
        """Mean and (population) standard deviation of each column of ``X``, computed in float64; a
        constant column (std 0, or a std float32 cannot hold) gets std 1, so it maps to 0, not NaN.

        >>> s = Standardize.fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
        >>> s.mean.tolist(), s.std.tolist()
        ([2.0, 5.0], [1.0, 1.0])
        """
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0).astype(np.float32)
        std = X.std(axis=0).astype(np.float32)
        std[~(np.isfinite(std) & (std > 0))] = 1.0
        return cls(mean, std)

    @classmethod
    def placeholder(cls, n_features: int) -> Standardize:
        """A scaler of the right shape whose statistics a state dict then sets (a cached network)."""
        return cls(np.zeros(n_features), np.ones(n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return standardize(x, self.mean, self.std)

    def record(self) -> dict:
        """What ``result.json`` (``frozen_model.preprocessing``) says about the scaler."""
        return {"standardize": True, "fitted_on": FITTED_ON, "mean": self.mean.tolist(), "std": self.std.tolist(),
                "missing": MISSING}


def standardizes(kind: str, standardize: bool | None) -> bool:
    """Whether a model of ``kind`` gets standardised inputs under ``model.standardize=standardize``:
    null means yes for the harness's own numeric models (mlp, logistic) and no for a user's
    (``pretrained``); token ids (``text``) never are (refused before any compute, see checks).

    >>> standardizes("mlp", None), standardizes("pretrained", None), standardizes("mlp", False)
    (True, False, False)
    """
    if kind.startswith("text"):
        return False
    return kind != "pretrained" if standardize is None else bool(standardize)


def input_scaler(module: nn.Module) -> Standardize | None:
    """The :class:`Standardize` layer inside ``module`` (a served or trained network), or None."""
    return next((m for m in module.modules() if type(m) is Standardize), None)


def preprocessing_record(module: nn.Module) -> dict:
    """The input preprocessing of a served network, for ``result.json``."""
    scaler = input_scaler(module)
    return scaler.record() if scaler is not None else {"standardize": False}


def build_network(kind: str, *, n_features: int, n_classes: int, width: int, depth: int,
                  inputs=None, scaler: Standardize | None = None) -> nn.Module:
    """Logits network ``(n, n_features) -> (n, n_classes)``: a ReLU MLP, a linear (logistic) model,
    or a text classifier over token ids (``text``, ``text:hashed:<buckets>``; see
    :mod:`harness.offline.text_model`) whose closed vocabulary is the token ids of ``inputs`` (the training rows).
    ``scaler`` (numeric kinds only; token ids are never standardised) is the network's first layer."""
    if kind.startswith("text"):
        return build_text_network(kind, n_classes=n_classes, width=width, depth=depth, inputs=inputs)
    first = [] if scaler is None else [scaler]
    if kind == "logistic":
        return nn.Sequential(*first, nn.Linear(n_features, n_classes)) if first else nn.Linear(n_features, n_classes)
    if kind != "mlp":
        raise ConfigError(f"model.kind={kind!r} is not one of {list(MODEL_KINDS)}")
    layers: list[nn.Module] = list(first)
    size = n_features
    for _ in range(depth):
        layers += [nn.Linear(size, width), nn.ReLU()]
        size = width
    layers.append(nn.Linear(size, n_classes))
    return nn.Sequential(*layers)


class Calibrated(nn.Module):
    """Class probabilities ``softmax(net(x) / temperature)``: the artifact that ships."""

    def __init__(self, net: nn.Module, temperature: float = 1.0):
        super().__init__()
        self.net = net
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) / self.temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x), dim=1)


def freeze(module: nn.Module) -> nn.Module:
    """Put ``module`` in inference mode for good: ``eval()`` and no parameter takes a gradient."""
    module.eval()
    module.requires_grad_(False)
    return module


def weights_sha256(module: nn.Module) -> str:
    """SHA-256 over every parameter and buffer (name, dtype, shape and bytes), in name order: an
    exported program lists a network's buffers (the input scaler's) after its parameters, so the
    state-dict order alone would not give the served network and its export the same hash."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{data.dtype}:{tuple(data.shape)}".encode())
        digest.update(data.numpy().tobytes())
    return digest.hexdigest()


def tensor_bytes(module: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> int:
    """Bytes held by the parameters, buffers and (if given) the optimiser state."""
    total = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    if optimizer is not None:
        for state in optimizer.state.values():
            total += sum(v.numel() * v.element_size() for v in state.values() if torch.is_tensor(v))
    return total


def predict_proba(module: nn.Module, X) -> "torch.Tensor":
    """Probabilities of a probability-output module on a float32 array, without building a graph.

    A :class:`Calibrated` network of the kinds :func:`build_network` makes is evaluated through the
    functions its layers call (the same kernels, so the same numbers): a request of one sample then
    skips most of the per-call cost of ``nn.Module``, which dominates at that size."""
    layers = _plain_layers(module)
    with torch.inference_mode():
        x = torch.as_tensor(X, dtype=torch.float32)
        if layers is None:
            return module(x)
        for layer in layers:
            kind = type(layer)
            if kind is nn.Linear:
                x = nn.functional.linear(x, layer.weight, layer.bias)
            elif kind is Standardize:
                x = standardize(x, layer.mean, layer.std)
            else:
                x = nn.functional.relu(x)
        return torch.softmax(x / module.temperature, dim=1)


def _plain_layers(module: nn.Module) -> list[nn.Module] | None:
    """The layers of a ``Calibrated`` MLP or logistic network (exactly ``Standardize``, ``nn.Linear`` and ``nn.ReLU``),
    in order; None for any other module, which is then simply called (forward hooks, which the
    harness never registers, run only then). Looked up once per network a module holds."""
    if type(module) is not Calibrated:
        return None
    net, layers = _layers_of.get(module, (None, None))
    if net is not module.net:
        net = module.net
        layers = list(net) if type(net) is nn.Sequential else [net]
        layers = layers if all(type(layer) in (Standardize, nn.Linear, nn.ReLU) for layer in layers) else None
        _layers_of[module] = (net, layers)
    return layers


_layers_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> (its net, its plain layers)
