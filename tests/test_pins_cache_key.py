"""The offline cache's key: everything that decides the pre-deployment outcome is in it.

A key that forgot the seed would hand a table stream (whose offline data do not depend on the seed)
the network another seed trained; one that forgot the search space would serve a network searched
over other hyper-parameters. Each field of ``offline_settings`` is changed from the config alone,
and each offline array is changed one value at a time.
"""

from __future__ import annotations

import re

import pytest

from harness.offline.cache import cache_key, pretrain
from harness.offline.freeze import training_settings
from harness.pipeline.experiment import offline_settings
from harness.run import run
from tests.conftest import compose_config
from tests.helpers import make_data
from tests.test_table_stream import table_overrides, write_csv

# one override per field of offline_settings, each changing only that field
OVERRIDES = {
    "model_kind": "model=logistic model.depth=2",
    "depth": "model.depth=3",
    "space": "offline.search.lr=[0.001,0.01]",
    "n_trials": "offline.n_trials=3",
    "sampler": "offline.sampler=tpe",
    "pruner": "offline.pruner=none",
    "max_epochs": "offline.max_epochs=14",
    "patience": "offline.patience=4",
    "calibrate": "offline.calibrate=false",
    "standardize": "model.standardize=false",
    "seed": "seed=1",
    "threads": "threads=2",  # set after composition: the checks refuse it on a 1-CPU machine
}
TINY_SEARCH = {"model_kind": "mlp", "depth": 1, "space": {"lr": [0.01], "batch_size": [32], "weight_decay": [0.0],
               "width": [8]}, "n_trials": 1, "sampler": "random", "pruner": "median", "max_epochs": 2,
               "patience": 1, "calibrate": True, "standardize": True, "seed": 0, "threads": 1}


def others(value) -> list:
    """Values other than ``value``, of its type."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if isinstance(value, str):
        return [value + "x"]
    return [{**value, "lr": [0.02]}, {k: v for k, v in value.items() if k != "width"}]


def key(settings: dict, offline=None, n_classes: int = 3) -> str:
    return cache_key(offline if offline is not None else make_data()[0], n_classes=n_classes, settings=settings)


@pytest.mark.parametrize("model", ["mlp", "logistic", "text"])
def test_the_run_gives_exactly_the_settings_optimise_and_freeze_takes_and_threads(model):
    """One signature: a new argument of optimise_and_freeze that the run did not give would train
    with its default while the cache key would not hold it."""
    overrides = [f"model={model}", *(["stream=prompts"] if model == "text" else [])]
    assert list(offline_settings(compose_config(overrides))) == [
        "model_kind", "depth", "space", "n_trials", "sampler", "pruner", "max_epochs", "patience", "calibrate",
        "standardize", "seed", "threads"]
    assert set(offline_settings(compose_config(overrides))) == {*training_settings(), "threads"}


def test_pretrain_refuses_settings_it_would_not_key(tmp_path):
    offline = make_data()[0]
    for settings, said in (({k: v for k, v in TINY_SEARCH.items() if k != "pruner"}, "lack ['pruner']"),
                           ({**TINY_SEARCH, "lr": 0.1}, "unknown ['lr']")):
        with pytest.raises(ValueError, match=re.escape(said)):
            pretrain(offline, n_classes=3, settings=settings, cache_dir=None, export_to=tmp_path / "m.pt2")
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_every_field_of_offline_settings_comes_from_the_config_and_changes_the_key():
    base = offline_settings(compose_config())
    assert set(OVERRIDES) == set(base)  # a new field needs its override here
    for field, override in OVERRIDES.items():
        if field == "threads":
            cfg = compose_config()
            cfg.threads = 2
        else:
            cfg = compose_config(override.split())
        changed = offline_settings(cfg)
        assert [name for name in base if changed[name] != base[name]] == [field], override
        assert key(changed) != key(base), override


@pytest.mark.parametrize("field", sorted(TINY_SEARCH))
def test_any_change_of_any_setting_changes_the_key(field):
    for other in others(TINY_SEARCH[field]):
        assert key({**TINY_SEARCH, field: other}) != key(TINY_SEARCH), (field, other)


@pytest.mark.parametrize("part", ["X_train", "y_train", "X_val", "y_val"])
def test_one_changed_offline_value_changes_the_key(part):
    offline = make_data()[0]
    array = getattr(offline, part).copy()
    array.flat[-1] = array.flat[-1] + 1
    changed = type(offline)(**{**{f: getattr(offline, f) for f in ("X_train", "y_train", "X_val", "y_val")},
                               part: array})
    assert key(TINY_SEARCH, changed) != key(TINY_SEARCH, offline)
    assert key(TINY_SEARCH, offline, n_classes=4) != key(TINY_SEARCH, offline)


@pytest.mark.slow
def test_same_offline_data_other_seed_or_search_space_is_a_miss(tmp_path):
    offline, cache = make_data()[0], tmp_path / "cache"

    def state(**changes):
        return pretrain(offline, n_classes=3, settings={**TINY_SEARCH, **changes}, cache_dir=cache,
                        export_to=tmp_path / "model.pt2")[1]

    assert state() == "miss"
    assert state(seed=1) == "miss"
    assert state(space={**TINY_SEARCH["space"], "width": [4]}) == "miss"
    assert state() == "hit" and state(seed=1) == "hit"
    assert len(list(cache.iterdir())) == 3


@pytest.mark.slow
def test_a_table_stream_trains_again_for_another_seed(tmp_path):
    """The table's offline rows are the same for every seed: only the seed in the key tells them apart."""
    write_csv(tmp_path / "data.csv")
    states = []
    for seed in (0, 1, 0):
        cfg = compose_config(table_overrides(tmp_path / "data.csv", "strategy=[frozen]", "figures=false",
                                             f"offline.cache_dir={tmp_path / 'cache'}", f"seed={seed}"),
                             tiny=False)
        states.append(run(cfg, tmp_path / f"run-{len(states)}").result["offline_cache"])
    assert states == ["miss", "miss", "hit"]
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_the_order_of_the_settings_does_not_change_the_key():
    """Settings composed in another order (a config's keys, a search space's) are the same entry."""
    reordered = {field: TINY_SEARCH[field] for field in reversed(list(TINY_SEARCH))}
    reordered["space"] = {name: TINY_SEARCH["space"][name] for name in reversed(list(TINY_SEARCH["space"]))}
    assert list(reordered) != list(TINY_SEARCH)
    assert key(reordered) == key(TINY_SEARCH)
