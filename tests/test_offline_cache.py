"""Train once, replay many: the pre-deployment cache answers only for identical offline data and
settings, gives the numbers training gives, survives corruption and concurrent writers."""

import json

import pandas as pd
import pytest

from harness.offline.cache import cache_key, load, pretrain, store
from harness.run import run
from tests.conftest import compose_config
from tests.helpers import make_data

SMALL = ["strategy=[frozen,finetune]", "figures=false"]  # the cache is in the tables, not the figures


def cached_run(tmp_path, name, *overrides):
    cache = tmp_path / "cache"
    return run(compose_config([*SMALL, f"offline.cache_dir={cache}", *overrides]), tmp_path / name)


@pytest.mark.slow
def test_cells_that_share_offline_data_share_one_training_and_its_numbers(tmp_path):
    first = cached_run(tmp_path, "a", "drift.severity=1")
    second = cached_run(tmp_path, "b", "drift.severity=0.5")
    assert (first.result["offline_cache"], second.result["offline_cache"]) == ("miss", "hit")
    assert first.result["frozen_model"]["sha256_before"] == second.result["frozen_model"]["sha256_before"]
    trained = run(compose_config([*SMALL, "drift.severity=0.5", "offline.cache=false"]), tmp_path / "c")
    assert trained.result["offline_cache"] == "off"
    for name in ("summary.csv", "windows.csv"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name
    searches = [pd.read_csv(tmp_path / name / "offline_search.csv").drop(columns="train_s") for name in "bc"]
    pd.testing.assert_frame_equal(*searches)
    exported = {name: (tmp_path / name / "frozen_model.pt2").read_bytes() for name in "abc"}
    assert exported["b"] == exported["a"] == exported["c"]  # trained without the cache: the same program


@pytest.mark.slow
def test_other_offline_data_or_settings_miss(tmp_path):
    cached_run(tmp_path, "a")
    assert cached_run(tmp_path, "b", "stream.n_offline=700").result["offline_cache"] == "miss"
    assert cached_run(tmp_path, "c", "offline.max_epochs=14").result["offline_cache"] == "miss"
    assert cached_run(tmp_path, "d", "seed=1").result["offline_cache"] == "miss"
    assert len(list((tmp_path / "cache").iterdir())) == 4


@pytest.mark.slow
def test_a_corrupt_entry_is_set_aside_and_rebuilt(tmp_path):
    first = cached_run(tmp_path, "a")
    (entry,) = (tmp_path / "cache").iterdir()
    weights = entry / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-64])
    again = cached_run(tmp_path, "b")
    assert again.result["offline_cache"] == "miss"
    assert again.result["frozen_model"]["sha256_before"] == first.result["frozen_model"]["sha256_before"]
    assert cached_run(tmp_path, "c").result["offline_cache"] == "hit"
    assert [p.name.startswith(".corrupt-") for p in sorted((tmp_path / "cache").iterdir())].count(True) == 1


@pytest.mark.slow
def test_a_changed_program_or_record_is_not_served(tmp_path):
    cached_run(tmp_path, "a")
    (entry,) = (tmp_path / "cache").iterdir()
    (entry / "frozen_model.pt2").write_bytes(b"not a program")
    assert load(entry, n_features=10, n_classes=3) is None
    record = json.loads((entry / "entry.json").read_text())
    (entry / "entry.json").write_text(json.dumps({**record, "temperature": record["temperature"] * 2}))
    assert load(entry, n_features=10, n_classes=3) is None
    (entry / "weights.pt").write_bytes(b"")  # emptied (a full disk)
    assert load(entry, n_features=10, n_classes=3) is None


@pytest.mark.slow
def test_two_jobs_that_miss_together_leave_one_valid_entry(tmp_path):
    offline, _ = make_data()
    settings = {"model_kind": "mlp", "depth": 1, "space": {"lr": [0.01], "batch_size": [32], "weight_decay": [0.0],
                "width": [8]}, "n_trials": 1, "sampler": "random", "pruner": "median", "max_epochs": 3, "patience": 2,
                "calibrate": True, "seed": 0, "standardize": False, "threads": 1}
    cache = tmp_path / "cache"
    outcomes = [pretrain(offline, n_classes=3, settings=settings, cache_dir=None, export_to=tmp_path / f"{i}.pt2")
                for i in range(2)]
    entry = cache / cache_key(offline, n_classes=3, settings=settings)
    for i, (pretrained, state) in enumerate(outcomes):
        assert state == "off"
        store(entry, pretrained, tmp_path / f"{i}.pt2", 4, 3)  # the second finds the first's entry in place
    assert [p.name for p in cache.iterdir()] == [entry.name]
    assert load(entry, n_features=4, n_classes=3).sha256 == outcomes[0][0].sha256


@pytest.mark.parametrize("figures, drawn", [(None, True), (False, False)])
def test_a_single_run_draws_its_figures_unless_told_not_to(tmp_path, figures, drawn):
    extra = [] if figures is None else [f"figures={str(figures).lower()}"]
    run(compose_config(["strategy=[frozen]", *extra]), tmp_path)
    assert (tmp_path / "figure.png").exists() == drawn and (tmp_path / "stream.png").exists() == drawn
