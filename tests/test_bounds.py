"""The bounds: the oracle trained on the post-drift concept, oracle_switch, and regret against it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.run import run
from harness.streams import build_stream
from tests.conftest import compose_config

BOUNDS = "strategy=[frozen,finetune,oracle,oracle_switch]"


@pytest.fixture(scope="module", params=[1.0, 0.0], ids=["strong", "none"])
def bounded_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"severity-{request.param}")
    run(compose_config([BOUNDS, f"drift.severity={request.param}", "offline.max_epochs=30"]), out)
    return request.param, pd.read_csv(out / "summary.csv").set_index(["strategy", "phase"]), out


@pytest.mark.slow
def test_oracle_after_the_drift_is_far_above_frozen_under_strong_drift_and_equal_without(bounded_run):
    severity, summary, _ = bounded_run
    gap = summary.loc[("oracle", "post"), "accuracy"] - summary.loc[("frozen", "post"), "accuracy"]
    if severity == 1.0:
        assert gap > 0.25
    else:
        assert abs(gap) < 0.03


@pytest.mark.slow
def test_regret_of_oracle_switch_is_zero_and_others_are_measured_against_it(bounded_run):
    _, summary, out = bounded_run
    assert (summary.loc["oracle_switch", "regret"] == 0).all()
    reference = summary.loc["oracle_switch", "accuracy"]
    for name in ("frozen", "finetune", "oracle"):
        np.testing.assert_allclose(summary.loc[name, "regret"], reference - summary.loc[name, "accuracy"])
    windows = pd.read_csv(out / "windows.csv")
    assert (windows.loc[windows.strategy == "oracle_switch", "regret"] == 0).all()


@pytest.mark.slow
def test_oracle_switch_is_frozen_before_the_onset_and_the_oracle_from_it_on(bounded_run):
    _, _, out = bounded_run
    predictions = pd.read_parquet(out / "predictions.parquet")
    p = {name: rows.sort_values("t").filter(regex=r"^p_").to_numpy() for name, rows in predictions.groupby("strategy")}
    t = np.sort(predictions.t.unique())
    onset = compose_config([]).drift.onset
    np.testing.assert_array_equal(p["oracle_switch"][t < onset], p["frozen"][t < onset])
    np.testing.assert_array_equal(p["oracle_switch"][t >= onset], p["oracle"][t >= onset])


@pytest.mark.slow
def test_without_oracle_switch_regret_is_nan(tmp_path):
    result = run(compose_config(["strategy=[frozen]", "offline.n_trials=1", "offline.max_epochs=3"]), tmp_path)
    assert result.summary["regret"].isna().all()


@pytest.mark.parametrize("family", ["teacher", "gaussian_classes", "sea", "hyperplane"])
def test_post_drift_data_are_seeded_and_leave_the_stream_untouched(family):
    cfg = compose_config([f"stream={family}"])
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    deploy = stream.deploy()
    first, second = stream.post_drift(), stream.post_drift()
    np.testing.assert_array_equal(first.X_train, second.X_train)
    assert len(first.y_train) + len(first.y_val) >= cfg.stream.n_offline - 1
    np.testing.assert_array_equal(stream.deploy().X, deploy.X)
    rows = {row.tobytes() for row in deploy.X}
    assert not any(row.tobytes() in rows for row in first.X_train)  # no deployment sample to learn from
