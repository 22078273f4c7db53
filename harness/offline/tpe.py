"""Pre-deployment search as practitioners run it: Optuna's TPE sampler with pruning.

The study lives in memory (nothing is written outside the run directory); the sampler is seeded
from the run's seed, so the same data and seed give the same trials. Each trial reports its
validation loss after every epoch; the pruner stops a trial whose loss lags the others' at the
same epoch (median) or at its rung (successive halving). The first third of the budget (at least
two trials) is drawn at random before TPE models the results, so that a small budget still
explores. Early stopping (``patience``) is the same as for random search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import optuna

from harness.offline.train import TrainResult
from harness.offline.tune import choose, train_trial
from harness.streams.base import OfflineData


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """``median``: stop a trial whose loss after an epoch is worse than the median of earlier
    trials at that epoch (from the third trial on, after a warm-up of five epochs: with two, it cut
    a trial that would have won, see tests/test_tuning.py); ``successive_halving``:
    Optuna's asynchronous successive halving; ``none``: never stop."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=5)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner={name!r} is not one of ['median', 'successive_halving', 'none']")


def tpe_search(
    data: OfflineData, *, space: Mapping[str, Sequence], n_trials: int, pruner: str, model_kind: str, depth: int,
    n_classes: int, max_epochs: int, patience: int, seed: int, standardize: bool = False,
) -> tuple[TrainResult, dict, list[dict]]:
    """``n_trials`` TPE trials over the grid ``space``; as :func:`harness.offline.tune.search`."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler_seed = int(np.random.SeedSequence([seed, 102]).generate_state(1)[0])
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=max(2, n_trials // 3))
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=make_pruner(pruner))
    records: list[dict] = []
    results: dict[int, tuple[TrainResult, dict]] = {}

    def objective(trial: optuna.Trial) -> float:
        params = {key: trial.suggest_categorical(key, list(values)) for key, values in space.items()}
        stopped: list[int] = []

        def on_epoch(epoch: int, loss: float) -> bool:
            trial.report(loss, epoch)
            if trial.should_prune():
                stopped.append(epoch)
                return True
            return False

        result, record = train_trial(data, params, trial.number, model_kind=model_kind, depth=depth,
                                     n_classes=n_classes, max_epochs=max_epochs, patience=patience, seed=seed,
                                     on_epoch=on_epoch, standardize=standardize)
        pruned = bool(stopped)
        records.append({**record, "state": "pruned" if pruned else "complete",
                        "pruned_epoch": stopped[0] if pruned else float("nan")})
        if pruned:
            raise optuna.TrialPruned()
        results[trial.number] = (result, params)
        return result.val_loss

    study.optimize(objective, n_trials=n_trials)
    result, params = results[choose(records, space)]
    return result, dict(params), records
