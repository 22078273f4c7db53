"""Hyper-parameter search on the static validation split (the legacy pre-deployment step)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from harness.models import build_network
from harness.offline.train import TrainResult, train_network
from harness.streams.base import OfflineData

SEARCHED = ("lr", "batch_size", "weight_decay", "width")


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
) -> tuple[TrainResult, dict, list[dict]]:
    """Train one network per trial; return the best (lowest validation loss), its
    hyper-parameters, and one record per trial with its validation scores."""
    trials = sample_trials(space, n_trials, seed)
    records: list[dict] = []
    best: tuple[TrainResult, dict] | None = None
    for index, params in enumerate(trials):
        torch.manual_seed(seed * 1000 + index)
        net = build_network(
            model_kind, n_features=data.X_train.shape[1], n_classes=n_classes, width=params["width"], depth=depth
        )
        start = time.perf_counter()
        result = train_network(
            net, data.X_train, data.y_train, data.X_val, data.y_val,
            lr=params["lr"], batch_size=params["batch_size"], weight_decay=params["weight_decay"],
            max_epochs=max_epochs, patience=patience, seed=seed * 1000 + index,
        )  # fmt: skip
        records.append(
            {
                "trial": index,
                **params,
                "epochs": result.epochs,
                "best_epoch": result.best_epoch,
                "val_loss": result.val_loss,
                "val_accuracy": result.val_accuracy,
                "train_s": time.perf_counter() - start,
            }
        )
        if best is None or result.val_loss < best[0].val_loss:
            best = (result, params)
    for record in records:
        record["selected"] = record["trial"] == trials.index(best[1])
    return best[0], dict(best[1]), records
