"""Hyper-parameter search on the static validation split (the legacy pre-deployment step).

Two samplers over the same grid ``space``, with the same trial budget and the same early stopping:
``random`` (distinct grid points drawn at random, the simple reference) and ``tpe`` (Optuna's
seeded TPE sampler, in-memory, pruning trials whose validation loss lags, see
:mod:`harness.offline.tpe`). Every trial is one record of ``offline_search.csv``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from harness.offline.models import Standardize, build_network
from harness.offline.train import TrainResult, train_network
from harness.streams.base import OfflineData
from harness.validation.errors import ConfigError

SAMPLERS = ("random", "tpe")
PRUNERS = ("median", "successive_halving", "none")


def grid_size(space: Mapping[str, Sequence]) -> int:
    """Number of points of the grid ``space``.

    >>> grid_size({"lr": [0.1, 0.01], "width": [8, 16, 32]})
    6
    """
    return int(np.prod([len(values) for values in space.values()]))


def sample_trials(space: Mapping[str, Sequence], n_trials: int, seed: int) -> list[dict]:
    """``n_trials`` distinct points of the grid ``space``, drawn at random (all of it if smaller).

    >>> sample_trials({"lr": [0.1, 0.01], "width": [8]}, 5, seed=0)
    [{'lr': 0.1, 'width': 8}, {'lr': 0.01, 'width': 8}]
    """
    keys = list(space)
    grid = [dict(zip(keys, values)) for values in itertools.product(*(space[k] for k in keys))]
    if n_trials >= len(grid):
        return grid
    chosen = np.random.default_rng([seed, 101]).choice(len(grid), size=n_trials, replace=False)
    return [grid[i] for i in sorted(chosen)]


def train_trial(
    data: OfflineData, params: dict, index: int, *, model_kind: str, depth: int, n_classes: int,
    max_epochs: int, patience: int, seed: int, on_epoch: Callable[[int, float], bool] | None = None,
    standardize: bool = False,
) -> tuple[TrainResult, dict]:
    """Train trial ``index`` with ``params``: the network and its record (without ``state``). With
    ``standardize`` the network's first layer scales inputs by the training split's statistics."""
    torch.manual_seed(seed * 1000 + index)
    net = build_network(
        model_kind, n_features=data.X_train.shape[1], n_classes=n_classes, width=params["width"], depth=depth,
        inputs=data.X_train, scaler=Standardize.fit(data.X_train) if standardize else None,
    )
    start = time.perf_counter()
    result = train_network(
        net, data.X_train, data.y_train, data.X_val, data.y_val,
        lr=params["lr"], batch_size=params["batch_size"], weight_decay=params["weight_decay"],
        max_epochs=max_epochs, patience=patience, seed=seed * 1000 + index, on_epoch=on_epoch,
    )  # fmt: skip
    record = {
        "trial": index,
        **params,
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "val_loss": result.val_loss,
        "val_accuracy": result.val_accuracy,
        "train_s": time.perf_counter() - start,
    }
    return result, record


def search(
    data: OfflineData,
    *,
    model_kind: str,
    depth: int,
    n_classes: int,
    space: Mapping[str, Sequence],
    n_trials: int,
    max_epochs: int,
    patience: int,
    seed: int,
    sampler: str = "random",
    pruner: str = "median",
    standardize: bool = False,
) -> tuple[TrainResult, dict, list[dict]]:
    """Train one network per trial; return the best complete trial (lowest validation loss), its
    hyper-parameters, and one record per trial with its validation scores, ``state`` (complete or
    pruned) and ``pruned_epoch`` (NaN unless pruned). Both samplers run ``min(n_trials, grid size)``
    trials."""
    settings = dict(model_kind=model_kind, depth=depth, n_classes=n_classes, max_epochs=max_epochs,
                    patience=patience, seed=seed, standardize=standardize)
    if sampler == "tpe":
        from harness.offline.tpe import tpe_search

        return tpe_search(data, space=space, n_trials=min(n_trials, grid_size(space)), pruner=pruner, **settings)
    if sampler != "random":
        raise ValueError(f"sampler={sampler!r} is not one of {list(SAMPLERS)}")
    records: list[dict] = []
    results: dict[int, tuple[TrainResult, dict]] = {}
    for index, params in enumerate(sample_trials(space, n_trials, seed)):
        result, record = train_trial(data, params, index, **settings)
        records.append({**record, "state": "complete", "pruned_epoch": float("nan")})
        results[index] = (result, params)
    chosen = choose(records, space)
    result, params = results[chosen]
    return result, dict(params), records


def choose(records: list[dict], space: Mapping[str, Sequence]) -> int:
    """The trial of the first complete record with the lowest finite ``val_loss``, marked
    ``selected``: a trial whose network diverged (NaN or infinite loss) is never chosen. When no
    trial is finite, ConfigError naming the search space."""
    finite = [r for r in records if r["state"] == "complete" and math.isfinite(r["val_loss"])]
    if not finite:
        losses = ", ".join(f"trial {r['trial']}: {r['val_loss']}" for r in records)
        raise ConfigError(f"no trial of the pre-deployment search reached a finite validation loss ({losses}) over "
                          f"offline.search={dict(space)}: every network diverged; lower offline.search.lr")
    chosen = min(finite, key=lambda r: r["val_loss"])["trial"]
    for record in records:
        record["selected"] = record["trial"] == chosen
    return chosen
