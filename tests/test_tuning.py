"""The pre-deployment search with TPE: seeded, and it prunes trials whose early loss lags."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.offline import optimise_and_freeze
from harness.offline.tune import train_trial
from tests.helpers import K, make_data

# Two learning rates, one useless: a trial's loss after its first epochs tells its final loss.
SPACE = {"lr": [0.05, 1e-6], "batch_size": [16], "weight_decay": [0.0], "width": [16, 32, 64, 128]}
SETTINGS = dict(model_kind="mlp", depth=1, n_classes=K, max_epochs=12, patience=3)
SEED = 1  # a seed whose first trials hold both rates, so that the median pruner has a lead to judge by


def offline_data():
    return make_data(seed=0, n_offline=400)[0]


def tpe(pruner: str = "median", seed: int = SEED):
    return optimise_and_freeze(offline_data(), space=SPACE, n_trials=8, calibrate=False, seed=seed, sampler="tpe",
                               pruner=pruner, **SETTINGS)


@pytest.mark.slow
def test_tpe_is_deterministic_for_a_seed():
    first, second = tpe(), tpe()
    assert first.sha256 == second.sha256 and first.params == second.params
    drop = ["train_s"]
    pd.testing.assert_frame_equal(pd.DataFrame(first.search).drop(columns=drop),
                                  pd.DataFrame(second.search).drop(columns=drop))


@pytest.mark.slow
def test_tpe_prunes_trials_that_would_have_lost():
    """Each pruned trial, trained to the end instead (same seed, same first epochs), ends worse than
    the trial selected: the pruner cut only losers, and cut them short."""
    search = pd.DataFrame(tpe().search)
    assert len(search) == 8 and set(search.state) <= {"complete", "pruned"}
    pruned = search[search.state == "pruned"]
    assert len(pruned) >= 1
    assert search[search.state == "complete"].pruned_epoch.isna().all()
    assert (pruned.epochs == pruned.pruned_epoch).all()
    best = search.loc[search.selected, "val_loss"].item()
    for row in pruned.itertuples():
        params = {key: getattr(row, key) for key in SPACE}
        full, _ = train_trial(offline_data(), params, row.trial, seed=SEED, **SETTINGS)
        assert full.val_loss > best
        assert row.pruned_epoch < full.epochs


def test_without_a_pruner_every_trial_completes():
    search = pd.DataFrame(tpe(pruner="none").search)
    assert (search.state == "complete").all() and len(search) == 8


@pytest.mark.slow
def test_random_search_records_every_trial_as_complete():
    search = pd.DataFrame(optimise_and_freeze(offline_data(), space=SPACE, n_trials=3, calibrate=False, seed=0,
                                              sampler="random", **SETTINGS).search)
    assert len(search) == 3 and (search.state == "complete").all() and search.pruned_epoch.isna().all()
