"""From the tuned network to the shipped artifact: calibrate, freeze, hash, export."""

from __future__ import annotations

import inspect
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from harness.offline.archive import NotProgram, Unsafe, inspect_archive
from harness.offline.calibrate import fit_temperature
from harness.offline.models import Calibrated, freeze, weights_sha256
from harness.offline.tune import search
from harness.streams.base import OfflineData

if TYPE_CHECKING:
    from harness.offline.user import UserModel


@dataclass
class Pretrained:
    """The outcome of pre-deployment optimisation, shared by every strategy that builds on it."""

    module: Calibrated  # frozen: eval(), no gradients; outputs class probabilities
    params: dict  # the chosen hyper-parameters (lr, batch_size, weight_decay, width)
    depth: int
    model_kind: str
    temperature: float
    sha256: str  # of the frozen weights, temperature included
    search: list[dict]  # one record per trial
    user: UserModel | None = None  # model=pretrained: the researcher's model as loaded (module.net is its net)
    cache_dir: Path | None = None  # the offline cache it came from or went to: networks fitted on it are kept there

    def weight_hashes(self) -> tuple[str, str]:
        """``(before, now)`` SHA-256 of the frozen weights: of the served module, temperature included,
        or for a user's model of the user's own module (state-dict names as in their file, the
        temperature recorded apart), so that it can be checked against the file they gave."""
        if self.user is None:
            return self.sha256, weights_sha256(self.module)
        return self.user.weights_sha256, weights_sha256(self.user.net.model)


def training_settings() -> tuple[str, ...]:
    """The settings that decide the pre-deployment outcome besides the data and the number of
    classes: the keyword arguments of :func:`optimise_and_freeze`, read off its signature.

    >>> training_settings()[:4]
    ('model_kind', 'depth', 'space', 'n_trials')
    """
    parameters = inspect.signature(optimise_and_freeze).parameters.values()
    return tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.name != "n_classes")


def optimise_and_freeze(
    data: OfflineData,
    *,
    model_kind: str,
    depth: int,
    n_classes: int,
    space: dict,
    n_trials: int,
    max_epochs: int,
    patience: int,
    calibrate: bool,
    seed: int,
    sampler: str = "random",
    pruner: str = "median",
    standardize: bool = False,
) -> Pretrained:
    """Tune on the validation split (``sampler`` random or tpe, see :mod:`harness.offline.tune`),
    keep the best network, fit its temperature there, freeze it. With ``standardize`` every trial's
    network starts with a scaler fitted on the training split, so the frozen one carries it.

    Its keyword arguments but ``n_classes`` are the offline settings (:func:`training_settings`):
    written here once, the run's settings and the cache key are checked against them."""
    best, params, records = search(
        data, model_kind=model_kind, depth=depth, n_classes=n_classes, space=space, n_trials=n_trials,
        max_epochs=max_epochs, patience=patience, seed=seed, sampler=sampler, pruner=pruner, standardize=standardize,
    )
    temperature = 1.0
    if calibrate:
        with torch.inference_mode():
            val_logits = best.net(torch.as_tensor(data.X_val, dtype=torch.float32)).numpy()
        temperature = fit_temperature(val_logits, data.y_val)
    module = freeze(Calibrated(best.net, temperature))
    return Pretrained(module, params, depth, model_kind, temperature, weights_sha256(module), records)


def export(module: nn.Module, n_features: int, path: Path) -> None:
    """Save ``module`` as a ``torch.export`` program: float32 ``(n, n_features)`` in, probabilities out."""
    example = torch.zeros(2, n_features, dtype=torch.float32)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(module, (example,), dynamic_shapes={"x": {0: batch}})
    # torch.export.save names the archive's root folder after the file: saved under its final name in a
    # private folder beside it, then moved into place, so that one model gives the same bytes every time
    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder:
        staged = Path(folder) / path.name
        torch.export.save(program, str(staged))
        os.replace(staged, path)


def load_exported(path: Path):
    """The exported program as a callable module (no harness class needed); a file that loading
    would run code from (:mod:`harness.offline.archive`) is refused with ValueError."""
    try:
        inspect_archive(Path(path))
    except (Unsafe, NotProgram) as unsafe:
        raise ValueError(f"{path} is not loaded: {unsafe}") from None
    return torch.export.load(str(path)).module()


def exported_proba(path: Path, X: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return load_exported(path)(torch.tensor(X, dtype=torch.float32)).numpy()
