"""Training a fresh network with the hyper-parameters chosen before deployment (no new search).

Shared by the strategies that retrain after deployment and by the deep ensemble: each builds the
network the search selected (``pretrained.model_kind``, ``depth``, ``params["width"]``), trains it
with the selected ``lr``, ``batch_size`` and ``weight_decay`` and early stopping on a validation
split, optionally fits a temperature there, and freezes it.

A researcher's own model (``model=pretrained``) has no searched architecture: a retraining starts
from a copy of the user's weights (never from the latest retrained network), and only the deep
ensemble, whose members need their own initialisations, builds fresh networks from the model's
factory; the hyper-parameters are ``model.lr``, ``model.batch_size`` and ``model.weight_decay``.

One preprocessing policy: a fresh network starts with a copy of the frozen network's input scaler
(statistics of the offline training split), never with statistics of the data it is trained on.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from harness.offline.cache import UNREADABLE, set_aside, training_code_sha256
from harness.offline.calibrate import fit_temperature
from harness.offline.freeze import Pretrained
from harness.offline.models import Calibrated, build_network, freeze, input_scaler, weights_sha256
from harness.offline.train import train_network
from harness.results.records import HEX64, count, problems
from harness.results.store import atomic_write


def n_outputs(pretrained: Pretrained) -> int:
    """Number of classes of the pre-deployment network (its last layer's width)."""
    last = [m for m in pretrained.module.net.modules() if isinstance(m, torch.nn.Linear)][-1]
    return last.out_features


def chronological_split(n: int, val_fraction: float) -> tuple[slice, slice]:
    """Train on the oldest ``1 - val_fraction`` of ``n`` samples, validate on the newest (at least 1).

    >>> chronological_split(10, 0.3)
    (slice(0, 7, None), slice(7, 10, None))
    """
    n_val = min(max(1, int(round(n * val_fraction))), n - 1)
    return slice(0, n - n_val), slice(n - n_val, n)


def fit_network(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    pretrained: Pretrained,
    max_epochs: int,
    patience: int,
    calibrate: bool,
    seed: int,
    reinitialise: bool = False,
) -> tuple[Calibrated, int]:
    """A frozen ``Calibrated`` network trained from scratch on ``(X_train, y_train)`` (float32
    ``(n, d)``, int ``(n,)``), early-stopped and (if ``calibrate``) temperature-scaled on the
    validation arrays, and the number of gradient steps it took. Seeded: the same inputs and
    ``seed`` give the same weights. A user's model is trained from a copy of its weights, or with
    ``reinitialise`` from a fresh module of its factory."""
    params = pretrained.params
    net = _new_network(X_train, pretrained, seed, reinitialise)
    result = train_network(
        net, X_train, y_train, X_val, y_val,
        lr=params["lr"], batch_size=params["batch_size"], weight_decay=params["weight_decay"],
        max_epochs=max_epochs, patience=patience, seed=seed,
    )  # fmt: skip
    temperature = 1.0
    if calibrate:
        with torch.inference_mode():
            logits = result.net(torch.as_tensor(X_val, dtype=torch.float32)).numpy()
        temperature = fit_temperature(logits, y_val)
    steps = result.epochs * -(-len(y_train) // params["batch_size"])
    return freeze(Calibrated(result.net, temperature)), steps


def _new_network(X_train: np.ndarray, pretrained: Pretrained, seed: int, reinitialise: bool = False) -> torch.nn.Module:
    """The untrained network :func:`fit_network` starts from, initialised from ``seed``, with the
    frozen network's input scaler (a copy) if it has one."""
    with torch.random.fork_rng():  # seeded initialisation without moving the global RNG
        torch.manual_seed(seed)
        if pretrained.user is not None:
            return pretrained.user.start(reinitialise=reinitialise)
        scaler = input_scaler(pretrained.module)
        return build_network(pretrained.model_kind, n_features=X_train.shape[1], n_classes=n_outputs(pretrained),
                             width=pretrained.params["width"], depth=pretrained.depth, inputs=X_train,
                             scaler=None if scaler is None else copy.deepcopy(scaler))


def fit_network_once(*arrays: np.ndarray, pretrained: Pretrained, **settings) -> tuple[Calibrated, int]:
    """:func:`fit_network` (same arguments), trained once for the same inputs: the networks a strategy
    fits before deployment (the members of a deep ensemble) are the same in every cell of a sweep
    within a seed, and training is seeded, so a copy of the first fit is the fit. Kept in memory for
    the process and, when the frozen model came from the offline cache (``pretrained.cache_dir``),
    in that cache for every process (parallel workers, cluster jobs). Not for training after
    deployment, whose time is a measured cost."""
    key = _fit_key(arrays, pretrained, settings)
    if key not in _fitted:
        stored = None if pretrained.cache_dir is None or pretrained.user is not None else (
            Path(pretrained.cache_dir) / "networks" / f"{key}.pt")
        fitted = _load_fitted(stored, arrays[0], pretrained, settings) if stored is not None else None
        if fitted is None:
            fitted = fit_network(*arrays, pretrained=pretrained, **settings)
            if stored is not None:
                _store_fitted(stored, *fitted)
        _fitted[key] = fitted
        if len(_fitted) > _FITTED_MAX:
            _fitted.popitem(last=False)
    _fitted.move_to_end(key)
    module, steps = _fitted[key]
    return copy.deepcopy(module), steps


def _store_fitted(path: Path, module: Calibrated, steps: int) -> None:
    """``path`` written whole (renamed into place): the weights, the step count and their SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"state": module.state_dict(), "steps": steps, "sha256": weights_sha256(module)}
    atomic_write(path, lambda tmp: torch.save(record, tmp))


def _load_fitted(path: Path, X_train: np.ndarray, pretrained: Pretrained,
                 settings: dict) -> tuple[Calibrated, int] | None:
    """The network stored at ``path``, or None when it is missing or does not match its SHA-256 (it
    is then set aside, renamed, and fitted again)."""
    try:
        record = torch.load(path, weights_only=True)
        valid = not problems(record, FITTED_SCHEMA)
        if valid:
            module = Calibrated(_new_network(X_train, pretrained, settings["seed"]))
            module.load_state_dict(record["state"])
            valid = weights_sha256(module) == record["sha256"]
    except FileNotFoundError:
        return None
    except UNREADABLE:
        valid = False
    if not valid:
        set_aside(path)
        return None
    return freeze(module), int(record["steps"])


FITTED_SCHEMA = {"state": lambda state: isinstance(state, dict) and all(torch.is_tensor(v) for v in state.values()),
                 "steps": count, "sha256": HEX64}
_FITTED_MAX = 32  # small networks (a few hundred kB each at most)
_fitted: OrderedDict = OrderedDict()  # key -> (frozen network, steps), least recently used first


def _fit_key(arrays, pretrained: Pretrained, settings: dict) -> str:
    """SHA-256 of everything :func:`fit_network` depends on: the data, the architecture and the
    hyper-parameters the search chose, the frozen weights (a user's model starts from them), the
    training settings and seed, torch's version and threads, the training code."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    context = [pretrained.model_kind, pretrained.depth, pretrained.params, pretrained.sha256, settings,
               torch.get_num_threads(), torch.__version__, training_code_sha256()]
    digest.update(json.dumps(context, sort_keys=True, default=str).encode())
    return digest.hexdigest()
