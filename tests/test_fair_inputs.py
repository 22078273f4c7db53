"""One preprocessing policy for every torch model: inputs standardised with the offline training
split's statistics by a layer of the frozen network; and a temperature fit that says when it is stuck."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.offline.calibrate import BOUNDS, fit_temperature
from harness.offline.freeze import exported_proba, load_exported
from harness.offline.models import Standardize, input_scaler, weights_sha256
from harness.pipeline.testing import pretrained_network
from harness.run import run
from harness.strategies import netfit
from tests.conftest import compose_config

N_ROWS, N_OFFLINE, VAL = 900, 500, 0.25
SMALL = ["offline.n_trials=1", "offline.max_epochs=15", "quiet=true", "monitor=off", "figures=false",
         "metrics.window=100", f"stream.n_offline={N_OFFLINE}", f"stream.val_fraction={VAL}"]


def write_csv(path: Path, *, other_units: bool = False, gap: float = 0.0) -> pd.DataFrame:
    """Three informative features, a constant one, a two-class label; ``other_units``: feature ``a``
    as ``a * 1000 + 5000``; ``gap``: rows with ``|a - b| < gap`` dropped (separable classes)."""
    rng = np.random.default_rng([5, 10])
    frame = pd.DataFrame({"a": rng.normal(size=2 * N_ROWS), "b": rng.normal(size=2 * N_ROWS),
                          "c": rng.normal(size=2 * N_ROWS), "k": 7.0})
    frame["y"] = (frame.a - frame.b + 0.3 * frame.c > 0).astype(int)
    frame = frame[(frame.a - frame.b).abs() >= gap].head(N_ROWS).reset_index(drop=True)
    if other_units:
        frame["a"] = frame.a * 1000 + 5000
    frame.to_csv(path, index=False)
    return frame


def table_run(folder: Path, *extra: str, **csv) -> tuple[pd.DataFrame, object]:
    folder.mkdir(parents=True, exist_ok=True)
    frame = write_csv(folder / "data.csv", **csv)
    cfg = compose_config(["stream=table", f"stream.path={folder / 'data.csv'}", "stream.target=y", *SMALL, *extra],
                         tiny=False)
    return frame, run(cfg, folder / "run")


@pytest.fixture(scope="module")
def both_units(tmp_path_factory):
    folder = tmp_path_factory.mktemp("units")
    return table_run(folder / "plain", "strategy=[frozen,retrain_triggered]"), table_run(
        folder / "other", "strategy=[frozen,retrain_triggered]", other_units=True)


@pytest.mark.slow
def test_the_scaler_holds_the_training_split_statistics_and_says_so(both_units):
    for frame, result in both_units:
        n_train = N_OFFLINE - round(N_OFFLINE * VAL)
        train = frame[["a", "b", "c", "k"]].to_numpy()[:n_train]
        record = result.result["frozen_model"]["preprocessing"]
        assert record["standardize"] is True and record["fitted_on"] == "offline training split"
        np.testing.assert_allclose(record["mean"], train.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(record["std"], [*train[:, :3].std(axis=0), 1.0], rtol=1e-5)  # constant k: 1
        assert record["std"][3] == 1.0


@pytest.mark.slow
def test_a_feature_in_other_units_leaves_the_frozen_network_as_accurate(both_units):
    (_, plain), (_, other) = both_units
    accuracy = [r.summary.set_index(["strategy", "phase"]).loc[("frozen", "all"), "accuracy"] for r in (plain, other)]
    assert accuracy[0] > 0.9
    assert accuracy[1] == pytest.approx(accuracy[0], abs=0.01)
    retrained = [r.summary.set_index(["strategy", "phase"]).loc[("retrain_triggered", "all"), "accuracy"]
                 for r in (plain, other)]
    assert retrained[1] == pytest.approx(retrained[0], abs=0.02)


@pytest.mark.slow
def test_the_scaler_is_inside_the_exported_program_and_the_hash(both_units):
    frame, result = both_units[1]
    program = load_exported(result.output_dir / "frozen_model.pt2")
    names = dict(program.named_buffers())
    scaler = [name for name in names if name.endswith("mean")]
    assert scaler, f"no scaler buffer in the exported program: {list(names)}"
    record = result.result["frozen_model"]["preprocessing"]
    np.testing.assert_array_equal(names[scaler[0]].numpy(), np.float32(record["mean"]))
    X = frame[["a", "b", "c", "k"]].to_numpy()[N_OFFLINE:]
    predictions = pd.read_parquet(result.output_dir / "predictions.parquet")
    frozen = predictions[predictions.strategy == "frozen"].sort_values("t")
    np.testing.assert_allclose(exported_proba(result.output_dir / "frozen_model.pt2", X),
                               frozen[["p_0", "p_1"]].to_numpy(), atol=1e-6)


def test_the_scaler_counts_in_the_weight_hash():
    pretrained = pretrained_network()
    before = weights_sha256(pretrained.module)
    input_scaler(pretrained.module).mean[0] += 1.0
    assert weights_sha256(pretrained.module) != before


def test_fresh_networks_after_deployment_use_the_offline_statistics():
    pretrained = pretrained_network()
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(200, 4)) * 50 + 300).astype(np.float32)  # far from the offline data's statistics
    y = rng.integers(0, 3, size=200)
    module, _ = netfit.fit_network(X[:150], y[:150], X[150:], y[150:], pretrained=pretrained, max_epochs=2,
                                   patience=1, calibrate=False, seed=3)
    fresh, frozen = input_scaler(module), input_scaler(pretrained.module)
    assert torch.equal(fresh.mean, frozen.mean) and torch.equal(fresh.std, frozen.std)
    assert fresh is not frozen


@pytest.mark.slow
def test_standardize_false_serves_raw_inputs(tmp_path):
    _, result = table_run(tmp_path, "strategy=[frozen]", "model.standardize=false")
    assert result.result["frozen_model"]["preprocessing"] == {"standardize": False}


def test_a_constant_feature_gets_std_one():
    scaler = Standardize.fit(np.array([[1.0, 3.0], [1.0, 5.0], [1.0, 7.0]]))
    assert scaler.std.tolist() == [1.0, pytest.approx(np.std([3.0, 5.0, 7.0]))]
    assert scaler(torch.tensor([[1.0, 5.0]])).tolist() == [[0.0, 0.0]]


def test_separable_validation_data_drive_the_temperature_to_its_lower_bound(caplog):
    y = np.arange(60) % 3
    with caplog.at_level(logging.WARNING, logger="harness"):
        temperature = fit_temperature(np.eye(3)[y] * 2.0, y)
    assert temperature == pytest.approx(BOUNDS[0])
    assert "0.001" in caplog.text and "bound" in caplog.text
    caplog.clear()
    rng = np.random.default_rng(0)
    with caplog.at_level(logging.WARNING, logger="harness"):
        inside = fit_temperature(np.eye(3)[y] * 2.0 + rng.normal(size=(60, 3)) * 2, y)
    assert BOUNDS[0] * 1.1 < inside < BOUNDS[1] / 1.1 and caplog.text == ""


@pytest.mark.slow
def test_result_json_says_whether_the_temperature_is_at_a_bound(tmp_path, both_units):
    _, separable = table_run(tmp_path, "strategy=[frozen]", gap=0.8)
    record = separable.result["frozen_model"]
    assert record["temperature_at_bound"] is True and record["temperature"] == pytest.approx(BOUNDS[0])
    written = json.loads((separable.output_dir / "result.json").read_text())["frozen_model"]
    assert written["temperature_at_bound"] is True
    assert both_units[0][1].result["frozen_model"]["temperature_at_bound"] is False


@pytest.mark.slow
def test_the_policy_enters_the_offline_cache_key():
    from harness.offline.cache import cache_key
    from harness.pipeline.experiment import offline_settings
    from harness.pipeline.testing import make_data

    offline, _ = make_data(0)
    keys = {}
    for value in ("null", "true", "false"):
        settings = offline_settings(compose_config([f"model.standardize={value}"]))
        keys[value] = cache_key(offline, n_classes=3, settings=settings)
        assert settings["standardize"] is (value != "false")
    assert keys["null"] == keys["true"] != keys["false"]
    assert offline_settings(compose_config(["model=text", "stream=prompts"]))["standardize"] is False
