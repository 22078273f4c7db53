"""Partial labels, detector events and what a run writes about them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.pipeline.replay import label_mask
from harness.run import run
from harness.scores.detection import detection_scores, schedule_drifts
from harness.streams.base import DriftSchedule
from harness.validation.errors import ConfigError
from tests.conftest import compose_config


@pytest.mark.parametrize("n, fraction, expected", [(1000, 0.3, 300), (7, 0.5, 4), (10, 0.01, 1), (5, 1.0, 5)])
def test_label_mask_reveals_exactly_the_share_asked(n, fraction, expected):
    assert label_mask(n, fraction, seed=0).sum() == expected


def test_label_mask_is_seeded():
    a, b, c = label_mask(500, 0.4, seed=1), label_mask(500, 0.4, seed=1), label_mask(500, 0.4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="outside"):
        label_mask(10, 0.0, seed=0)


def test_detections_are_scored_against_the_schedule():
    gradual = DriftSchedule(kind="concept", pattern="gradual", severity=1.0, onset=1000, width=500)
    drifts = schedule_drifts(gradual, 5000)
    assert drifts == [(1000, 1500)]
    # 990: before onset (false); 1200, 1400: during the drift (true, delay 200); 2600 > 1500 + 1000 (false)
    scores = detection_scores([990, 1200, 1400, 2600], drifts, max_delay=1000)
    assert (scores["true_detections"], scores["false_alarms"], scores["missed_drifts"]) == (2, 2, 0)
    assert scores["mean_detection_delay"] == 200.0
    assert detection_scores([2600], drifts, max_delay=1000)["missed_drifts"] == 1
    control = DriftSchedule(kind="none", pattern="none", severity=0.0, onset=1000, width=0)
    assert detection_scores([5, 50], schedule_drifts(control, 5000), max_delay=1000)["false_alarms"] == 2
    recurring = DriftSchedule(kind="concept", pattern="recurring", severity=1.0, onset=1000, width=0, period=1500)
    # switches at 1000, 2500 and 4000: a detection 100 samples after each is true, none missed
    scores = detection_scores([1100, 2600, 4100], schedule_drifts(recurring, 5000), max_delay=1000)
    assert (scores["true_detections"], scores["false_alarms"], scores["missed_drifts"]) == (3, 0, 0)


@pytest.mark.slow
def test_a_run_shares_one_label_mask_and_reports_detections(tmp_path):
    cfg = compose_config([
        "strategy=[frozen,frozen_ensemble,river_gnb,retrain_triggered]", "replay.label_fraction=0.4",
        "replay.label_delay=2", "strategy.frozen_ensemble.n_members=2", "strategy.retrain_triggered.min_samples=100",
        "strategy.retrain_triggered.detector._target_=river.drift.binary.DDM",
    ])  # fmt: skip
    outcome = run(cfg, tmp_path)
    n = cfg.stream.n_deploy
    expected = label_mask(n, 0.4, cfg.seed) & (np.arange(n) < n - 2)  # the last 2 labels never arrive

    predictions = pd.read_parquet(tmp_path / "predictions.parquet")
    for name, rows in predictions.groupby("strategy"):
        np.testing.assert_array_equal(rows.sort_values("t").label_used.to_numpy(), expected, err_msg=name)
    costs = outcome.costs.set_index("strategy")
    assert costs.loc["river_gnb", "n_updates"] == expected.sum()
    assert costs.loc["frozen", "n_retrains"] == 0 and costs.loc["retrain_triggered", "n_retrains"] >= 1

    detections = pd.read_csv(tmp_path / "detections.csv")
    assert set(detections.strategy) == {"retrain_triggered"} and expected[detections.t].all()
    result = json.loads((tmp_path / "result.json").read_text())
    scored = result["detections"]["retrain_triggered"]
    assert scored["n_detections"] == len(detections) == scored["true_detections"] + scored["false_alarms"]
    assert set(result["static_weights"]) == {"frozen", "frozen_ensemble"}
    assert all(entry["unchanged"] for entry in result["static_weights"].values())


@pytest.mark.slow
def test_label_fraction_outside_its_range_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="replay.label_fraction=1.5"):
        run(compose_config(["strategy=[frozen]", "replay.label_fraction=1.5"]), tmp_path)


@pytest.mark.slow
def test_a_target_without_the_protocol_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="lacks the strategy protocol"):
        run(compose_config(["strategy=[frozen]", "strategy.frozen._target_=argparse.Namespace",
                            "~strategy.frozen.step", "~strategy.frozen.calibrated"]), tmp_path)  # fmt: skip
