"""The researcher's own model (``model=pretrained``): loaded, checked against the stream, calibrated,
frozen, hashed and exported like a tuned one, with no search and no training.

Two ways in: ``model.path`` a ``torch.export`` program (``.pt2``), or ``model._target_`` a factory
(called with no arguments) returning an ``nn.Module`` whose state dict is ``model.weights``. Either
maps float32 ``(n, d)`` to ``(n, K)`` logits or, with ``model.outputs=probs``, probabilities (served
through their logarithm, so that temperature scaling and fine-tuning work on log-probabilities).
Every check raises :class:`~harness.validation.errors.ConfigError` naming the key and the value.
"""

from __future__ import annotations

import copy
import logging
import time
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from hydra.utils import get_object
from torch import nn

from harness.offline.archive import check_archive
from harness.offline.calibrate import fit_temperature
from harness.offline.freeze import Pretrained, export
from harness.offline.models import Calibrated, Standardize, freeze, weights_sha256
from harness.results.store import file_sha256
from harness.streams.base import OfflineData
from harness.validation.errors import ConfigError

OUTPUTS = ("logits", "probs")
KEYS = ("path", "_target_", "weights")  # read only by model=pretrained
PROBE_ROWS = 8  # seeded standard-normal rows of the preflight's forward pass
SUM_TOLERANCE = 1e-4  # how far a probability row may sum from 1
FACTORY = ("model._target_ must be a torch.nn.Module subclass or a function annotated to return one "
           "(def build() -> nn.Module), called with no arguments")
_PROBE = 53  # purpose of the probe's generator


class UserNet(nn.Module):
    """A user's ``model`` as the harness trains and serves it: float32 ``(n, d)`` in, ``(n, K)``
    logits out (for ``outputs="probs"``, ``log p``, whose softmax gives ``p`` back; a probability of
    exactly 0 becomes the log of the smallest positive float).

    A loaded ``torch.export`` program (``fixed_graph=True``) cannot switch between training and
    inference mode (torch raises), so ``train``/``eval`` leave it as it was exported; its parameters
    still take gradients.

    ``scaler`` (``model.standardize=true``) standardises the inputs before the user's model sees them;
    without it the model gets the values as the stream holds them.
    """

    def __init__(self, model: nn.Module, outputs: str, fixed_graph: bool, scaler: Standardize | None = None):
        super().__init__()
        self.model = model
        self.outputs = outputs
        self.fixed_graph = fixed_graph
        self.scaler = scaler

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x if self.scaler is None else self.scaler(x))
        if self.outputs == "logits":
            return out
        return torch.log(out.clamp_min(torch.finfo(out.dtype).tiny))  # only an exact 0 is floored

    def train(self, mode: bool = True) -> UserNet:
        if not self.fixed_graph:
            return super().train(mode)
        self.training = mode
        return self

    def __deepcopy__(self, memo: dict) -> UserNet:
        """The default copy, without the deprecation warning torch 2.13 emits copying an exported graph."""
        twin = type(self).__new__(type(self))
        memo[id(self)] = twin
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            twin.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return twin


@dataclass
class UserModel:
    """The user's model as loaded, and where it came from."""

    net: UserNet  # the user's weights
    source: str  # "model.path='...'" or "model._target_='...'": how messages name it
    file: Path  # the .pt2 program or the state dict
    file_sha256: str
    weights_sha256: str  # of the user's module's state dict, names as the user saved them
    factory: Callable[[], nn.Module] | None  # None for a torch.export program
    in_features: int | None  # the input width, when the program or the first layer says it

    @property
    def trainable(self) -> bool:
        """Whether the model has floating-point parameters a gradient step can move."""
        return any(p.is_floating_point() for p in self.net.parameters())

    def start(self, *, reinitialise: bool = False) -> UserNet:
        """A trainable network to train after deployment: a copy of the user's weights, or with
        ``reinitialise`` a fresh module from the factory (seed torch's RNG first)."""
        if not reinitialise:
            net = copy.deepcopy(self.net)
        elif self.factory is None:
            raise ValueError(f"{self.source} is a torch.export program: it has no factory to build a fresh network")
        else:
            net = UserNet(self.factory(), self.net.outputs, fixed_graph=False, scaler=copy.deepcopy(self.net.scaler))
        net.requires_grad_(True)
        return net


def check_model_settings(model: Mapping) -> None:
    """The ``model`` keys of ``model=pretrained`` (and that no other kind sets them); no file is read."""
    if model["kind"] != "pretrained":
        for key in KEYS:
            if model[key] is not None:
                raise ConfigError(f"model.{key}={model[key]!r} is only read by model=pretrained "
                                  f"(model.kind={model['kind']!r})")
        if model["trusted"]:
            raise ConfigError(f"model.trusted=true is only read by model=pretrained with model.path "
                              f"(model.kind={model['kind']!r})")
        return
    path, target, weights = (model[key] for key in KEYS)
    if path is not None and target is not None:
        raise ConfigError(f"model.path={path!r} and model._target_={target!r} are both set; give one: a "
                          "torch.export program, or a factory with model.weights")
    if path is None and target is None:
        raise ConfigError("model=pretrained needs model.path=FILE (a torch.export program, .pt2) or "
                          "model._target_=pkg.factory with model.weights=FILE (a state dict)")
    if path is not None and weights is not None:
        raise ConfigError(f"model.weights={weights!r} goes with model._target_ (a factory); the torch.export "
                          f"program model.path={path!r} carries its own weights")
    if model["trusted"] and path is None:
        raise ConfigError("model.trusted=true lets model.path load a torch.export program that carries pickled or "
                          "executable entries; it means nothing without model.path (a state dict in model.weights "
                          "is always read with torch.load(weights_only=True))")
    if target is not None and weights is None:
        raise ConfigError(f"model._target_={target!r} needs model.weights=FILE (a state dict, saved with "
                          "torch.save(module.state_dict(), FILE))")


def _file(key: str, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        what = "not a file (no such file)"
        if path.exists():
            what = "a directory" if path.is_dir() else "not a regular file"
        raise ConfigError(f"model.{key}={value!r} is {what}")
    return path.resolve()


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return (text[:300] + " ...") if len(text) > 300 else text or type(error).__name__


def load_user_model(model: Mapping) -> UserModel:
    """Load and check the model ``model`` (the config's ``model`` node) names; raises ConfigError."""
    check_model_settings(model)
    if model["path"] is not None:
        return _load_program(model["path"], model["outputs"], trusted=model["trusted"])
    return _load_factory(model["_target_"], model["weights"], model["outputs"])


def _load_program(value: str, outputs: str, *, trusted: bool) -> UserModel:
    """The program at ``value``; unless ``trusted``, only once :func:`check_archive` found nothing in
    it that loading would run as code."""
    path = _file("path", value)
    quiet = logging.getLogger("torch.export")  # torch logs a traceback before raising on a bad file
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        if not trusted:
            check_archive(path, "model.path")
        program = torch.export.load(str(path))
    except ConfigError:
        raise
    except Exception as error:
        raise ConfigError(f"model.path={value!r} is not a torch.export program (.pt2, written by torch.export.save; "
                          f"loading failed with {type(error).__name__}); a state dict goes in model.weights, "
                          "with model._target_") from None
    finally:
        quiet.setLevel(level)
    module = program.module()
    example = program.example_inputs[0] if program.example_inputs else ()
    in_features = int(example[0].shape[-1]) if example and example[0].dim() == 2 else None
    return UserModel(UserNet(module, outputs, fixed_graph=True), f"model.path={value!r}", path, file_sha256(path),
                     weights_sha256(module), None, in_features)


def model_factory(target) -> Callable[[], nn.Module]:
    """What ``model._target_`` names, once known to build an ``nn.Module`` without being called: a
    subclass of ``torch.nn.Module``, or a function whose return annotation is one (resolved with
    ``typing.get_type_hints``). A callable of unknown result is refused: calling it is what would run
    code the configuration never declared."""
    where = f"model._target_={target!r}"
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{where} is not a dotted path to a factory (module.function or module.Class)")
    try:
        factory = get_object(target)
    except Exception as error:
        raise ConfigError(f"{where} cannot be imported: {_first_line(error)}") from None
    if isinstance(factory, type):
        if issubclass(factory, nn.Module):
            return factory
        raise ConfigError(f"{where} is a class that does not subclass torch.nn.Module; {FACTORY}")
    if not callable(factory):
        raise ConfigError(f"{where} is an object of type {type(factory).__name__}, not a factory; {FACTORY}")
    try:
        returns = typing.get_type_hints(factory).get("return")
    except Exception as error:
        raise ConfigError(f"{where} has annotations that cannot be resolved ({_first_line(error)}); "
                          f"{FACTORY}") from None
    if not (isinstance(returns, type) and issubclass(returns, nn.Module)):
        said = ("has no return annotation" if returns is None else
                f"is annotated to return {getattr(returns, '__name__', returns)}, not a torch.nn.Module")
        raise ConfigError(f"{where} {said}; {FACTORY}")
    return factory


def _load_factory(target: str, value: str, outputs: str) -> UserModel:
    path = _file("weights", value)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ConfigError(f"model.weights={value!r} is not a state dict saved with torch.save(module.state_dict(), "
                          f"FILE) (torch.load with weights_only=True failed with {type(error).__name__}); a "
                          "torch.export program goes in model.path") from None
    if not isinstance(state, Mapping) or not all(torch.is_tensor(v) for v in state.values()):
        raise ConfigError(f"model.weights={value!r} holds a {type(state).__name__}, not a state dict (a mapping of "
                          "names to tensors, from module.state_dict())")
    factory = model_factory(target)
    try:
        module = factory()
    except Exception as error:
        raise ConfigError(f"model._target_={target!r} failed when called with no arguments: "
                          f"{type(error).__name__}: {_first_line(error)}") from None
    if not isinstance(module, nn.Module):
        raise ConfigError(f"model._target_={target!r} returned a {type(module).__name__}, not a torch.nn.Module")
    try:
        module.load_state_dict(state)
    except Exception as error:
        raise ConfigError(f"model.weights={value!r} does not fit the module of model._target_={target!r}: "
                          f"{_first_line(error)}") from None
    first = next((m.in_features for m in module.modules() if isinstance(getattr(m, "in_features", None), int)),
                 None)
    return UserModel(UserNet(module, outputs, fixed_graph=False), f"model._target_={target!r}", path,
                     file_sha256(path), weights_sha256(module), factory, first)


def check_outputs(user: UserModel, X: np.ndarray, *, n_classes: int, stream: str, rows: str) -> None:
    """The model maps ``X`` float32 ``(n, d)`` to finite ``(n, n_classes)`` outputs (probabilities
    when ``outputs="probs"``); ``stream`` and ``rows`` name, in a message, the stream and what ``X`` is."""
    n, d = X.shape
    try:
        with torch.inference_mode():
            x = torch.as_tensor(X, dtype=torch.float32)
            out = user.net.model(x if user.net.scaler is None else user.net.scaler(x))
    except Exception as error:
        if user.in_features == d:  # the right width, so the batch size is what it refuses
            raise ConfigError(
                f"{user.source} takes rows of the stream's width {d} but fails on a batch of {n}: the harness calls "
                "it with batches of any size, so export it with a dynamic batch dimension, e.g. "
                "torch.export.export(net, (x,), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},)); "
                f"torch says: {_first_line(error)}") from None
        takes = f"takes inputs of shape (n, {user.in_features})" if user.in_features else "fails on"
        raise ConfigError(f"{user.source} {takes} but {stream} gives (n, {d}) (stream.n_features={d}): "
                          f"{_first_line(error)}") from None
    if not torch.is_tensor(out) or out.dim() != 2 or out.shape[0] != n:
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise ConfigError(f"{user.source} maps ({n}, {d}) to {shape}; it must return (n, K) = ({n}, {n_classes})")
    if out.shape[1] != n_classes:
        raise ConfigError(f"{user.source} outputs (n, {out.shape[1]}) but {stream} has {n_classes} classes: "
                          f"it must map (n, {d}) to (n, {n_classes})")
    out = out.double()
    if not torch.isfinite(out).all():
        raise ConfigError(f"{user.source} outputs NaN or infinity on {rows}")
    if user.net.outputs == "probs":
        sums = out.sum(dim=1)
        if (out < 0).any() or ((sums - 1).abs() > SUM_TOLERANCE).any():
            raise ConfigError(
                f"model.outputs='probs' but the rows {user.source} returns on {rows} are not probabilities (row sums "
                f"{sums.min().item():.4g} to {sums.max().item():.4g}, smallest entry {out.min().item():.4g}; each "
                f"row must be >= 0 and sum to 1 within {SUM_TOLERANCE:g}); use model.outputs=logits for scores"
            )


def check_user_model(model: Mapping, stream, *, family: str, seed: int) -> UserModel:
    """Load the model and run it on ``PROBE_ROWS`` seeded standard-normal rows of the stream's width:
    refuses a wrong input width, a wrong number of classes or non-probabilities, before any compute."""
    user = load_user_model(model)
    X = np.random.default_rng([seed, _PROBE]).standard_normal((PROBE_ROWS, stream.n_features)).astype(np.float32)
    for rows in (X, X[:1]):  # a block of the replay, and one request (replay.serve_batch=1)
        check_outputs(user, rows, n_classes=stream.n_classes, stream=f"stream={family}",
                      rows=f"{len(rows)} standard-normal probe rows")
    return user


def freeze_user_model(model: Mapping, offline: OfflineData, *, n_classes: int, calibrate: bool,
                      export_to: Path, standardize: bool = False) -> Pretrained:
    """The user's model frozen as the shipped artifact: temperature fitted on the validation split
    (``calibrate``) or 1, exported to ``export_to``. Its one ``search`` record says no search ran.
    With ``standardize`` its inputs pass first through a scaler fitted on the training split."""
    start = time.perf_counter()
    user = load_user_model(model)
    if standardize:
        user.net.scaler = Standardize.fit(offline.X_train)
    check_outputs(user, offline.X_val, n_classes=n_classes, stream="the stream",
                  rows="the validation split")
    with torch.inference_mode():
        val_logits = user.net(torch.as_tensor(offline.X_val, dtype=torch.float32)).double().numpy()
    temperature = fit_temperature(val_logits, offline.y_val) if calibrate else 1.0
    module = freeze(Calibrated(user.net, temperature))
    export(module, offline.X_val.shape[1], export_to)
    proba = torch.softmax(torch.as_tensor(val_logits) / temperature, dim=1).numpy()
    rows = np.arange(len(offline.y_val))
    record = {
        "trial": 0, "state": "pretrained", "source": user.source, "selected": True,
        "lr": np.nan, "batch_size": np.nan, "weight_decay": np.nan, "width": np.nan, "epochs": 0, "best_epoch": 0,
        "val_loss": float(-np.log(np.clip(proba[rows, offline.y_val], 1e-15, 1)).mean()),
        "val_accuracy": float((proba.argmax(axis=1) == offline.y_val).mean()),
        "train_s": time.perf_counter() - start, "pruned_epoch": np.nan,
    }
    params = {"lr": model["lr"], "batch_size": model["batch_size"], "weight_decay": model["weight_decay"]}
    return Pretrained(module, params, 0, "pretrained", temperature, weights_sha256(module), [record], user=user)
