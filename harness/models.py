"""Torch networks of the pre-deployment pipeline, and what is measured on them."""

from __future__ import annotations

import hashlib
import weakref

import torch
from torch import nn

from harness.errors import ConfigError

MODEL_KINDS = ("mlp", "logistic")


def build_network(kind: str, *, n_features: int, n_classes: int, width: int, depth: int) -> nn.Module:
    """Logits network ``(n, n_features) -> (n, n_classes)``: a ReLU MLP or a linear (logistic) model."""
    if kind == "logistic":
        return nn.Linear(n_features, n_classes)
    if kind != "mlp":
        raise ConfigError(f"model.kind={kind!r} is not one of {list(MODEL_KINDS)}")
    layers: list[nn.Module] = []
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
    """SHA-256 over every parameter and buffer (name, dtype, shape and bytes), in state-dict order."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
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
            x = nn.functional.linear(x, layer.weight, layer.bias) if type(layer) is nn.Linear else nn.functional.relu(x)
        return torch.softmax(x / module.temperature, dim=1)


def _plain_layers(module: nn.Module) -> list[nn.Module] | None:
    """The layers of a ``Calibrated`` MLP or logistic network (exactly ``nn.Linear`` and ``nn.ReLU``),
    in order; None for any other module, which is then simply called (forward hooks, which the
    harness never registers, run only then). Looked up once per network a module holds."""
    if type(module) is not Calibrated:
        return None
    net, layers = _layers_of.get(module, (None, None))
    if net is not module.net:
        net = module.net
        layers = list(net) if type(net) is nn.Sequential else [net]
        layers = layers if all(type(layer) in (nn.Linear, nn.ReLU) for layer in layers) else None
        _layers_of[module] = (net, layers)
    return layers


_layers_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> (its net, its plain layers)
