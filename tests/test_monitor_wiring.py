"""What the monitor hands each detector and estimator, window by window, recomputed independently
from the run's own inputs (scipy's tests, the validation split by hand), and its alarm rates
recomputed from its alarm table: a false-alarm rate where no drift is known, a power after it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from torch import nn

from harness.monitor import monitor_run
from harness.monitor.cbpe import CBPE
from harness.monitor.score import alarm_rates, score
from harness.monitor.watch import Reference, estimate_window, watch
from harness.offline.models import Calibrated, freeze
from harness.offline.outputs import Outputs, model_outputs
from harness.results.monitoring import collect_monitoring, write_monitoring
from harness.run import run
from harness.scores import shift
from harness.streams import DriftSchedule
from harness.streams.natural import NaturalDrift
from harness.streams.teacher import TeacherStream
from tests.conftest import compose_config

ALPHA, WINDOW, ONSET, SEED = 0.05, 100, 950, 0  # the onset inside a window: one window straddles it
MMD = {"n_permutations": 19, "mmd_reference": 200}
SHIFT_TESTS = ["ks_inputs", "mmd_inputs", "bbsd", "confidence"]  # alarm by p-value (data quality: test_pipeline_monitors)


@pytest.fixture(scope="module")
def setup():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    stream = TeacherStream(DriftSchedule("covariate", "sudden", 1.0, ONSET, 0), seed=0, n_features=5,
                           n_offline=1500, n_deploy=2000)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, stream.n_classes))
    module = freeze(Calibrated(net, 1.5))
    offline, deploy = stream.offline(), stream.deploy()
    reference = Reference.build(module, offline, stream.n_classes)
    watched = watch(module, reference, deploy.X, window=WINDOW, alpha=ALPHA, seed=SEED, detectors=SHIFT_TESTS, **MMD)
    yield stream, module, offline, deploy, reference, watched
    torch.set_num_threads(before)


def ks_by_hand(reference: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """Column by column with scipy, the largest statistic, the Bonferroni-corrected smallest p."""
    results = [stats.ks_2samp(reference[:, j], window[:, j]) for j in range(reference.shape[1])]
    return max(r.statistic for r in results), min(1.0, reference.shape[1] * min(r.pvalue for r in results))


def test_each_window_gets_the_p_values_of_its_own_inputs_and_outputs(setup):
    _, module, offline, deploy, reference, watched = setup
    val, served = model_outputs(module, offline.X_val), model_outputs(module, deploy.X)
    k = val.proba.shape[1]
    pick = np.random.default_rng([SEED, 1])  # the MMD reference is drawn once, from the validation split
    mmd_X = offline.X_val[np.sort(pick.choice(len(offline.X_val), size=200, replace=False))]
    alarms = watched.alarms
    assert len(alarms) == 4 * 20
    for index, start in enumerate(range(0, 2000, WINDOW)):
        end = start + WINDOW
        rows = alarms[alarms.t_start == start].set_index("detector")
        assert (rows.t_end == end).all() and (rows.t == end - 1).all()
        window = served[start:end]
        expected = {
            "ks_inputs": ks_by_hand(offline.X_val, deploy.X[start:end]),
            "bbsd": ks_by_hand(val.proba[:, : k - 1], window.proba[:, : k - 1]),
            "confidence": tuple(stats.ttest_ind(window.proba.max(axis=1), val.proba.max(axis=1), equal_var=False)),
            "mmd_inputs": shift.mmd_permutation(mmd_X, deploy.X[start:end], n_permutations=19,
                                                rng=np.random.default_rng([SEED, 2, index])),
        }
        for detector, (statistic, p_value) in expected.items():
            assert rows.loc[detector, "statistic"] == pytest.approx(statistic, rel=1e-12, abs=1e-15), detector
            assert rows.loc[detector, "p_value"] == pytest.approx(p_value, rel=1e-12, abs=1e-15), detector


def test_a_window_alarms_exactly_when_its_p_value_is_below_alpha(setup):
    alarms = setup[-1].alarms
    assert (alarms.alarm == (alarms.p_value < ALPHA)).all()
    # the control: some p-values lie in [alpha, 2 alpha), so alarming at twice alpha would show
    assert ((alarms.p_value >= ALPHA) & (alarms.p_value < 2 * ALPHA)).any()
    assert alarms.alarm.any() and not alarms.alarm.all()


def test_each_window_gets_the_estimates_of_its_own_outputs_against_the_validation_split(setup):
    _, module, offline, deploy, reference, watched = setup
    val, served = model_outputs(module, offline.X_val), model_outputs(module, deploy.X)
    val_confidence = val.proba.max(axis=1)
    accuracy = np.mean(val.proba.argmax(axis=1) == offline.y_val)
    ordered = np.sort(val_confidence)
    threshold = ordered[int(round((1 - accuracy) * len(ordered))) - 1]  # exceeded by `accuracy` of them
    assert np.mean(val_confidence > threshold) == pytest.approx(accuracy, abs=1 / len(ordered))
    assert reference.atc_threshold == threshold and reference.accuracy == accuracy
    cbpe = CBPE.fit(val.proba, offline.y_val)
    estimated = watched.estimates.pivot(index="t_start", columns="estimator", values="estimated_accuracy")
    assert list(estimated.index) == list(range(0, 2000, WINDOW))
    for start in estimated.index:
        window = served.proba[start:start + WINDOW]
        confidence = window.max(axis=1)
        row = estimated.loc[start]
        assert row["cbpe"] == cbpe.estimate(window)
        assert row["mean_confidence"] == confidence.mean()
        assert row["atc"] == np.mean(confidence > threshold)
        assert row["doc"] == pytest.approx(accuracy - (val_confidence.mean() - confidence.mean()), abs=1e-15)
    # the control: CBPE is not the mean confidence here, so feeding it the confidence would show
    assert (estimated.cbpe - estimated.mean_confidence).abs().max() > 0.01


def test_atc_counts_only_confidences_strictly_above_its_threshold(setup):
    reference = dataclasses.replace(setup[4], atc_threshold=0.6)
    proba = np.array([[0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    outputs = Outputs(proba, np.log(proba), np.zeros((4, 1)))
    assert estimate_window("atc", reference, outputs) == 0.25  # two at exactly 0.6 do not count


def test_a_p_value_exactly_at_alpha_does_not_alarm(setup):
    _, module, _, _, built, _ = setup
    ref_X = np.zeros((4, 5))
    ref_X[:, 0] = [0, 1, 2, 3]
    window_X = ref_X.copy()
    window_X[:, 0] += 10  # feature 0 fully separated: exact p = 2 / C(8, 4); the other four identical
    reference = dataclasses.replace(built, X=ref_X)
    args = dict(window=4, seed=SEED, detectors=["ks_inputs"], estimators=[], scores=[])
    p_value = watch(module, reference, window_X, alpha=0.5, **args).alarms.p_value.iloc[0]
    assert p_value == pytest.approx(5 * 2 / 70)  # Bonferroni over five features
    assert not watch(module, reference, window_X, alpha=p_value, **args).alarms.alarm.iloc[0]
    assert watch(module, reference, window_X, alpha=np.nextafter(p_value, 1), **args).alarms.alarm.iloc[0]


# ---- alarm rates: false alarms where no drift is known, power after a known drift ----------------


def rates_by_hand(alarms, onset: int | None) -> dict:
    out = {}
    for detector, rows in alarms.groupby("detector"):
        if onset is None:
            out[detector] = {"false_alarm_rate": rows.alarm.mean()}
        else:
            out[detector] = {"false_alarm_rate": rows.alarm[rows.t_end <= onset].mean(),
                             "power": rows.alarm[rows.t_start >= onset].mean()}
    return out


def test_a_window_straddling_the_onset_counts_in_neither_rate():
    t_start, t_end = np.array([0, 10, 20]), np.array([10, 20, 30])
    schedule = DriftSchedule("covariate", "sudden", 1.0, 15, 0)
    # the straddling window [10, 20) alarms alone, then with the one after
    assert alarm_rates(t_start, t_end, np.array([False, True, False]), schedule, 30) == {
        "false_alarm_rate": 0.0, "power": 0.0}
    assert alarm_rates(t_start, t_end, np.array([False, False, True]), schedule, 30) == {
        "false_alarm_rate": 0.0, "power": 1.0}
    assert alarm_rates(t_start, t_end, np.array([True, False, True]), schedule, 30) == {
        "false_alarm_rate": 1.0, "power": 1.0}
    gradual = DriftSchedule("covariate", "gradual", 1.0, 10, 10)  # power from the onset, ramp included
    assert alarm_rates(t_start, t_end, np.array([False, True, False]), gradual, 30) == {
        "false_alarm_rate": 0.0, "power": 0.5}


def test_a_drifting_run_reports_false_alarm_rate_before_and_power_after_the_onset(setup):
    stream, module, offline, deploy, _, _ = setup
    cfg = compose_config([f"monitor.alpha={ALPHA}", f"monitor.window={WINDOW}", "monitor.n_permutations=19",
                          "monitor.mmd_reference=200", f"seed={SEED}"])
    tables, summary = monitor_run(cfg, ["frozen"], module, offline, deploy, stream.schedule,
                                  n_classes=stream.n_classes)
    alarms = tables["alarms"]
    assert ((alarms.t_start < ONSET) & (alarms.t_end > ONSET)).any()  # a straddling window, counted in neither
    assert (alarms.alarm == (alarms.p_value < ALPHA)).all()  # the configured alpha reaches every window
    expected = rates_by_hand(alarms, ONSET)
    detectors = summary["frozen"]["detectors"]
    for detector, rates in expected.items():
        assert {key: detectors[detector][key] for key in ("false_alarm_rate", "power")} == pytest.approx(rates)
        assert "alarm_rate_pre" not in detectors[detector] and "alarm_rate_post" not in detectors[detector]
    assert detectors["ks_inputs"]["power"] > 0.8 > 0.2 > detectors["ks_inputs"]["false_alarm_rate"]


@pytest.mark.parametrize(
    "schedule",
    [
        DriftSchedule("covariate", "sudden", 0.0, ONSET, 0),  # severity 0
        DriftSchedule("covariate", "none", 1.0, ONSET, 0),  # pattern none
        DriftSchedule("none", "sudden", 1.0, ONSET, 0),  # kind none
        NaturalDrift(),  # real data, drift unknown
    ],
    ids=["severity0", "pattern_none", "kind_none", "unknown"],
)
def test_a_run_without_known_drift_reports_no_power_only_false_alarm_rate(setup, schedule):
    _, _, _, deploy, _, watched = setup
    scored = score("frozen", watched, deploy, schedule, tau=0.9, coverages=[1.0], max_delay=500)
    expected = rates_by_hand(scored.alarms, None)
    for detector, rates in scored.summary["detectors"].items():
        assert "power" not in rates
        assert rates["false_alarm_rate"] == pytest.approx(expected[detector]["false_alarm_rate"])
    # every window counts: the covariate shift after 950 makes these far above alpha
    assert scored.summary["detectors"]["ks_inputs"]["false_alarm_rate"] > 0.3


def test_declared_change_points_of_real_data_are_a_known_drift_with_power(setup):
    _, _, _, deploy, _, watched = setup
    scored = score("frozen", watched, deploy, NaturalDrift((ONSET,)), tau=0.9, coverages=[1.0], max_delay=500)
    expected = rates_by_hand(scored.alarms, ONSET)
    for detector, rates in scored.summary["detectors"].items():
        assert {key: rates[key] for key in ("false_alarm_rate", "power")} == pytest.approx(expected[detector])


RUNS = {"no_drift": ["drift.severity=0"], "covariate": ["drift.kind=covariate"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny runs side by side, as a sweep leaves them (each with ``.hydra/``)."""
    root = tmp_path_factory.mktemp("runs")
    for name, drift in RUNS.items():
        run(compose_config([*drift, "strategy=[frozen]", "monitor.detectors=[ks_inputs,confidence]"]), root / name)
        (root / name / ".hydra").mkdir()
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_a_run_writes_the_alarm_rates_its_alarm_table_gives(runs, name):
    result = json.loads((runs / name / "result.json").read_text())
    alarms = pd.read_csv(runs / name / "alarms.csv")
    onset = None if name == "no_drift" else result["schedule"]["onset"]
    written = result["monitoring"]["frozen"]["detectors"]
    assert set(written) == {"ks_inputs", "confidence"}
    for detector, rates in rates_by_hand(alarms, onset).items():
        assert {key: written[detector][key] for key in written[detector] if key in ("false_alarm_rate", "power")} \
            == pytest.approx(rates)


@pytest.mark.slow
def test_the_study_collector_gathers_false_alarm_rate_and_power_per_run(runs):
    tables = collect_monitoring([runs])
    detectors = tables["detectors"].query("not reads_labels").set_index(["severity", "detector"])
    assert len(detectors) == 4 and set(tables["estimates"].estimator) == {"cbpe", "mean_confidence", "atc", "doc"}
    for severity, name in ((0.0, "no_drift"), (1.0, "covariate")):
        written = json.loads((runs / name / "result.json").read_text())["monitoring"]["frozen"]["detectors"]
        for detector in ("ks_inputs", "confidence"):
            row = detectors.loc[(severity, detector)]
            assert row.false_alarm_rate == written[detector]["false_alarm_rate"]
            assert np.isnan(row.power) if name == "no_drift" else row.power == written[detector]["power"]


def test_the_power_figure_draws_each_detectors_mean_power_per_kind():
    import matplotlib.pyplot as plt

    from harness.figures.monitoring import plot_power

    detectors = pd.DataFrame({
        "kind": ["covariate", "covariate", "covariate", "concept", "concept", "concept"],
        "detector": ["ks_inputs", "ks_inputs", "bbsd", "ks_inputs", "bbsd", "retrain_triggered (River, errors)"],
        "power": [1.0, 0.5, 0.25, 0.0, 0.125, np.nan],  # River's detector has no windows: no bar
    })
    fig, ax = plt.subplots()
    plot_power(detectors, ax=ax)
    heights = sorted(round(bar.get_height(), 6) for bar in ax.patches if bar.get_height() > 0)
    plt.close(fig)
    assert heights == [0.125, 0.25, 0.75]  # covariate ks_inputs: mean of 1 and 0.5; concept ks_inputs: 0


@pytest.mark.slow
def test_the_study_figures_are_drawn_from_the_collected_runs(runs, tmp_path):
    written = write_monitoring([runs], tmp_path)
    names = {path.name for path in written}
    assert {"monitoring_estimates.png", "monitoring_detection.png", "monitoring_risk_coverage.png"} <= names
    assert all(path.stat().st_size > 0 for path in written)
