"""The data-quality monitors (missing_rate, out_of_range, constant_run): their statistics and p-values
by hand, their false-alarm rate on a stream without fault, an alarm after the onset for each fault at
severity 1, and a whole run that scores them against the fault's onset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from torch import nn

from harness.monitor.quality import QUALITY, QualityReference, longest_runs
from harness.monitor.score import score
from harness.monitor.watch import Reference, watch
from harness.offline.models import Calibrated, Standardize, freeze
from harness.run import run
from harness.streams import build_stream
from tests.conftest import compose_config

ONSET, WINDOW = 400, 100


def test_missing_rate_alarms_on_any_value_missing_where_none_was_offline():
    ref = QualityReference.build(np.zeros((8, 2)), np.ones((2, 2)))
    window = np.array([[0.0, 1.0], [np.nan, 0.0], [np.nan, 1.0], [1.0, 0.0]])
    assert ref.check("missing_rate", window, 0.01) == (0.5, 0.0, True)
    assert ref.check("missing_rate", window[[0, 3]], 0.01) == (0.0, 1.0, False)


def test_out_of_range_p_value_is_the_binomial_tail_against_two_over_m_plus_one():
    offline = np.arange(20.0).reshape(-1, 1) * np.ones((1, 2))  # m = 20 values per feature in [0, 19]
    ref = QualityReference.build(offline[:15], offline[15:])
    window = np.array([[-1.0, 5.0], [25.0, 5.0], [3.0, 5.0], [4.0, np.nan]])  # feature 0: 2 of 4 outside
    statistic, p_value, alarm = ref.check("out_of_range", window, 0.05)
    tail = stats.binomtest(2, 4, 2 / 21, alternative="greater").pvalue
    assert statistic == 0.5 and p_value == pytest.approx(2 * tail, rel=1e-12) and alarm == (2 * tail < 0.05)
    assert ref.check("out_of_range", window[2:], 0.05)[:2] == (0.0, 1.0)


def test_constant_run_compares_the_longest_run_with_the_longest_offline_one():
    assert longest_runs(np.array([[1.0, 0], [1, 0], [1, 0], [2, 0]])).tolist() == [3, 4]
    assert longest_runs(np.array([[0.0], [1], [1], [1], [2], [2]])).tolist() == [3]
    ref = QualityReference.build(np.array([[0.0], [0], [1], [2]]), np.array([[3.0], [4]]))  # offline run 2
    assert ref.check("constant_run", np.array([[5.0], [5], [6]]), 0.01)[::2] == (1.0, False)
    statistic, p_value, alarm = ref.check("constant_run", np.array([[5.0], [5], [5], [6]]), 0.01)
    assert (statistic, alarm) == (1.5, True) and np.isnan(p_value)


def random_module(X_train: np.ndarray, k: int) -> Calibrated:
    """A random network behind the input scaler of ``X_train`` (which imputes a missing value)."""
    torch.manual_seed(0)
    net = nn.Sequential(Standardize.fit(X_train), nn.Linear(X_train.shape[1], 8), nn.ReLU(), nn.Linear(8, k))
    return freeze(Calibrated(net, 1.0))


def watched(overrides: list[str], *, n_deploy: int = 1200, window: int = WINDOW, alpha: float = 0.01):
    cfg = compose_config(["stream.n_offline=1500", f"stream.n_deploy={n_deploy}", f"drift.onset={ONSET}",
                          *overrides], tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    offline, deploy = stream.offline(), stream.deploy()
    module = random_module(offline.X_train, stream.n_classes)
    reference = Reference.build(module, offline, stream.n_classes)
    seen = watch(module, reference, deploy.X, window=window, alpha=alpha, seed=0, detectors=QUALITY)
    return stream, deploy, seen


def test_without_fault_no_quality_monitor_alarms_beyond_its_stated_rate():
    alpha = 0.05
    _, _, seen = watched(["drift.kind=none", "drift.pattern=none", "drift.severity=0"], n_deploy=15000, window=50,
                         alpha=alpha)
    rates = seen.alarms.groupby("detector").alarm.mean()
    assert rates["missing_rate"] == 0 and rates["constant_run"] == 0  # no missing value, no repeated value
    assert rates["out_of_range"] <= alpha  # a binomial test at level alpha (conservative: Bonferroni, discrete)


# The monitor that must see each fault at severity 1 (a swap of two features with the same distribution
# is invisible to every input monitor: on agrawal the swapped features have different ranges).
SEEN_BY = {"scale": "out_of_range", "offset": "out_of_range", "noise": "out_of_range",
           "missing": "missing_rate", "stuck": "constant_run", "swap": "out_of_range"}


@pytest.mark.parametrize("fault", sorted(SEEN_BY))
def test_each_fault_at_severity_one_alarms_in_its_first_window_and_never_before(fault):
    stream_ = ["stream=agrawal"] if fault == "swap" else []
    stream, deploy, seen = watched([*stream_, "drift=pipeline", f"drift.fault={fault}"])
    rows = seen.alarms[seen.alarms.detector == SEEN_BY[fault]]
    assert not rows[rows.t_end <= ONSET].alarm.any()
    assert rows[rows.t_start >= ONSET].alarm.all()
    scored = score("frozen", seen, deploy, stream.schedule, tau=0.9, coverages=[1.0], max_delay=1000)
    detector = scored.summary["detectors"][SEEN_BY[fault]]
    assert detector["mean_detection_delay"] == WINDOW - 1 and detector["false_alarms"] == 0


def test_a_run_scores_the_quality_monitors_against_the_fault(tmp_path):
    outcome = run(compose_config(["drift=pipeline", "drift.fault=[missing,offset]", "drift.severity=0.5",
                                  "strategy=[frozen,river_logreg]", "figures=false"]), tmp_path)
    detectors = outcome.result["monitoring"]["frozen"]["detectors"]
    assert detectors["missing_rate"]["mean_detection_delay"] == 99  # TINY: onset 500, windows of 100
    for name in ("missing_rate", "out_of_range"):
        assert detectors[name]["true_detections"] >= 1 and detectors[name]["false_alarm_rate"] == 0.0, name
    assert outcome.result["drift"]["pipeline"]["faults"] == ["missing", "offset"]
    alarms = pd.read_csv(tmp_path / "alarms.csv")
    shift_tests = alarms[alarms.detector.isin(["ks_inputs", "mmd_inputs", "bbsd", "confidence"])]
    assert shift_tests.statistic.notna().all()  # the shift tests read around the missing values
    faults = (tmp_path / "faults.csv").read_text().splitlines()
    assert faults[0] == "feature,name,t_start,t_end" and len(faults) > 2
    for name, values in outcome.result["strategies"].items():
        assert np.isfinite(values["accuracy_post"]), name
    scores = outcome.summary[["accuracy", "ece", "brier", "nll", "confident_error_rate", "mean_confidence"]]
    assert np.isfinite(scores.to_numpy()).all()  # no missing value reaches a score
    # the exported frozen model imputes as the served one does: the offline training mean
    preprocessing = outcome.result["frozen_model"]["preprocessing"]
    assert preprocessing["missing"] == "imputed with the offline training mean (0 after standardising)"
    program = torch.export.load(str(tmp_path / "frozen_model.pt2")).module()
    row = torch.ones(1, len(preprocessing["mean"]))
    blank, filled = row.clone(), row.clone()
    blank[0, 2], filled[0, 2] = float("nan"), preprocessing["mean"][2]
    assert torch.isfinite(program(blank)).all() and torch.allclose(program(blank), program(filled), atol=1e-6)
