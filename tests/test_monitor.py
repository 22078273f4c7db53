"""Label-free monitoring: each test and estimator on a hand-computed case, false alarms at alpha under
no drift, power under covariate shift, perfect separation, and the guarantee that no deployment
label is read."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from harness.monitor import check_monitor, estimates, monitor_run, novelty
from harness.monitor.watch import Reference, watch
from harness.offline.models import Calibrated, freeze
from harness.offline.outputs import Outputs, model_outputs
from harness.scores import shift
from harness.streams import DriftSchedule
from harness.streams.teacher import TeacherStream
from harness.validation.errors import ConfigError
from tests.conftest import compose_config


@pytest.fixture(autouse=True)
def one_thread():
    """As a run does (``threads=1``): small tensor products are slower on more threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def random_module(d: int, k: int, seed: int = 0, hidden: int = 16) -> Calibrated:
    """An untrained frozen MLP: monitoring needs a model, not a good one."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, k))
    return freeze(Calibrated(net, 1.5))


# ---- hand-computed cases ------------------------------------------------------------------------


def test_ks_inputs_on_separated_samples_gives_the_exact_p_value_bonferroni_corrected():
    reference = np.array([[0.0, 0.0], [1, 0.5], [2, 0.2], [3, 0.1]])
    window = np.array([[10.0, 0.3], [11, 0.05], [12, 0.4], [13, 0.15]])
    statistic, p_value = shift.ks_inputs(reference, window)
    # feature 0: every window value exceeds every reference one; exact two-sided p = 2 / C(8, 4)
    assert statistic == 1.0
    assert p_value == pytest.approx(2 * (2 / math.comb(8, 4)))  # two features: Bonferroni doubles it


def test_mmd_statistic_and_permutation_p_value_by_hand():
    statistic, _ = shift.mmd_permutation(np.array([[0.0]]), np.array([[1.0]]), n_permutations=5,
                                         rng=np.random.default_rng(0))
    # one pair, median distance 1: k(0, 1) = exp(-1/2); MMD^2 = 1 + 1 - 2 exp(-1/2)
    assert statistic == pytest.approx(2 - 2 * math.exp(-0.5))
    a, b = np.arange(4.0)[:, None], 10 + np.arange(4.0)[:, None]
    _, p_value = shift.mmd_permutation(a, b, n_permutations=4000, rng=np.random.default_rng(1))
    exact = 2 / math.comb(8, 4)  # only the true split and its mirror are as extreme
    assert abs(p_value - exact) < 4 * math.sqrt(exact * (1 - exact) / 4000)


def test_mmd_of_groups_of_two_sizes_and_of_two_points_by_hand():
    # 2 points at 0 against 3 at 1: median distance 1, within-group kernels 1, across exp(-1/2):
    # MMD^2 = 1 + 1 - 2 exp(-1/2), each group weighted by its own size
    statistic, _ = shift.mmd_permutation(np.zeros((2, 1)), np.ones((3, 1)), n_permutations=3,
                                         rng=np.random.default_rng(0))
    assert statistic == pytest.approx(2 - 2 * math.exp(-0.5))
    # one point each: every permutation gives the observed value, so p = (1 + B) / (1 + B) = 1
    _, p_value = shift.mmd_permutation(np.array([[0.0]]), np.array([[1.0]]), n_permutations=5,
                                       rng=np.random.default_rng(0))
    assert p_value == 1.0


def test_median_bandwidth_below_one_and_its_fallback_of_one():
    def bandwidth(points):
        column = torch.tensor(points, dtype=torch.float64)[:, None]
        return shift.median_bandwidth(torch.cdist(column, column))

    assert bandwidth([0.0, 0.25, 1.0]) == 0.75  # distances 0.25, 1, 0.75
    assert bandwidth([2.0, 2.0, 2.0]) == 1.0  # all distances 0: no scale, 1
    assert bandwidth([2.0]) == 1.0  # one point: no pair


def test_bbsd_tests_all_but_the_last_softmax_column():
    ref = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.8, 0.1, 0.1]])
    win = np.array([[0.1, 0.2, 0.7], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4], [0.05, 0.35, 0.6]])
    statistic, p_value = shift.bbsd(ref, win)
    # column 0 separates completely (D = 1, p = 2/70); column 1 does not; the last is not tested: x2
    assert statistic == 1.0
    assert p_value == pytest.approx(2 * 2 / math.comb(8, 4))


def test_bbsd_of_two_classes_tests_one_column_without_correction():
    ref = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    win = np.array([[0.4, 0.6], [0.3, 0.7], [0.2, 0.8], [0.1, 0.9]])
    statistic, p_value = shift.bbsd(ref, win)
    # the second column is 1 minus the first: one test, complete separation, p = 2/70 uncorrected
    assert statistic == 1.0
    assert p_value == pytest.approx(2 / math.comb(8, 4))


def test_confidence_test_is_welchs_t():
    val, window = np.array([0.9, 0.9, 1.0, 1.0]), np.array([0.6, 0.6, 0.8, 0.8])
    t, p_value = shift.confidence_test(val, window)
    var_val, var_window = 4 * 0.05**2 / 3, 4 * 0.1**2 / 3  # sample variances (deviations +-0.05, +-0.1)
    assert t == pytest.approx((0.7 - 0.95) / math.sqrt(var_val / 4 + var_window / 4))
    assert 0 < p_value < 0.05


def test_estimators_by_hand():
    confidence = np.array([0.55, 0.65, 0.95, 0.25])
    assert estimates.mean_confidence(confidence) == pytest.approx(0.6)
    threshold = estimates.atc_threshold(np.array([0.5, 0.6, 0.7, 0.8, 0.9]), 0.6)
    assert threshold == 0.6  # 3 of 5 validation confidences exceed it: the validation accuracy
    assert estimates.atc(confidence, threshold) == 0.5
    assert estimates.doc(confidence, 0.8, 0.85) == pytest.approx(0.8 - (0.85 - 0.6))


def test_atc_threshold_at_its_ends():
    val = np.array([0.9, 0.5, 0.7, 0.6, 0.8])
    # accuracy 0.8: k = round(0.2 * 5) = 1, the smallest confidence; 4 of 5 exceed it
    assert estimates.atc_threshold(val, 0.8) == 0.5
    # accuracy 1: k = 0, no threshold below every confidence exists in the sample: -inf, all count
    assert estimates.atc_threshold(val, 1.0) == -np.inf
    assert estimates.atc(np.array([0.0, 0.3]), estimates.atc_threshold(val, 1.0)) == 1.0


def test_novelty_scores_by_hand():
    outputs = Outputs(np.array([[0.7, 0.3]]), np.array([[0.0, math.log(3)]]), np.array([[2.0, 0.0]]))
    assert novelty.msp(outputs) == pytest.approx([0.3])
    assert novelty.energy(outputs) == pytest.approx([-math.log(1 + 3)])
    gaussians = novelty.ClassGaussians(np.array([[0.0, 0.0], [5.0, 5.0]]), np.diag([0.5, 2.0]))
    assert novelty.mahalanobis(outputs, gaussians) == pytest.approx([0.5 * 4])


def test_class_gaussians_recover_means_and_shared_covariance():
    features = np.array([[0.0, 1.0], [2.0, 1.0], [10.0, 0.0], [10.0, 2.0]])
    y = np.array([0, 0, 1, 1])
    g = novelty.fit_class_gaussians(features, y, 2, ridge=0.0)
    assert g.means == pytest.approx(np.array([[1.0, 1.0], [10.0, 1.0]]))
    # centred rows (-1,0),(1,0),(0,-1),(0,1): covariance diag(2/3, 2/3)
    assert g.precision == pytest.approx(np.diag([1.5, 1.5]))


def test_auroc_is_one_on_a_perfectly_separable_case_and_zero_reversed():
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    positive = np.array([False, False, False, True, True, True])
    assert novelty.auroc_score(scores, positive) == 1.0
    assert novelty.auroc_score(-scores, positive) == 0.0
    assert math.isnan(novelty.auroc_score(scores, np.zeros(6, bool)))


def test_risk_coverage_abstains_on_the_least_certain():
    scores = np.array([0.9, 0.1, 0.5, 0.3])
    error = np.array([1.0, 0.0, 1.0, 0.0])
    confident = np.array([0.0, 0.0, 1.0, 0.0])
    assert novelty.risk_coverage(scores, error, confident, 1.0) == (0.5, 0.25)
    assert novelty.risk_coverage(scores, error, confident, 0.75) == (1 / 3, 1 / 3)  # drops sample 0
    assert novelty.risk_coverage(scores, error, confident, 0.5) == (0.0, 0.0)


# ---- behaviour on streams with a known drift ----------------------------------------------------


def teacher(kind: str, severity: float, n_deploy: int, onset: int, seed: int = 0):
    stream = TeacherStream(DriftSchedule(kind, "sudden", severity, onset, 0), seed=seed, n_features=5,
                           n_offline=2000, n_deploy=n_deploy)
    return stream, stream.offline(), stream.deploy()


SHIFT_TESTS = ["ks_inputs", "mmd_inputs", "bbsd", "confidence"]  # the data-quality monitors: test_pipeline_monitors


@pytest.mark.slow
def test_false_alarm_rate_of_every_shift_test_is_near_alpha_without_drift():
    alpha, window, n_windows = 0.05, 50, 300
    stream, offline, deploy = teacher("covariate", 0.0, window * n_windows, 1000)
    module = random_module(stream.n_features, stream.n_classes)
    reference = Reference.build(module, offline, stream.n_classes)
    alarms = watch(module, reference, deploy.X, window=window, alpha=alpha, seed=0, n_permutations=99,
                   mmd_reference=200, detectors=SHIFT_TESTS).alarms
    rates = alarms.groupby("detector").alarm.mean()
    assert len(rates) == 4 and (alarms.groupby("detector").size() == n_windows).all()
    for detector, rate in rates.items():
        # Bonferroni and discrete tests make them conservative; a fixed reference adds spread
        assert 0.25 * alpha <= rate <= 2.0 * alpha, f"{detector}: false-alarm rate {rate} for alpha {alpha}"


def test_ks_inputs_alarms_within_a_few_windows_of_a_full_covariate_shift():
    window, onset = 100, 1000
    stream, offline, deploy = teacher("covariate", 1.0, 2000, onset)
    module = random_module(stream.n_features, stream.n_classes)
    reference = Reference.build(module, offline, stream.n_classes)
    alarms = watch(module, reference, deploy.X, window=window, alpha=0.01, seed=0, detectors=["ks_inputs"]).alarms
    after = alarms[alarms.t_start >= onset]
    assert after.alarm.iloc[:3].any(), after.head()
    assert after.alarm.mean() > 0.8
    assert alarms[alarms.t_end <= onset].alarm.mean() <= 0.2


def test_watch_in_chunks_gives_the_tables_of_one_pass_and_never_runs_more_than_a_chunk():
    """A long stream is watched a chunk of whole windows at a time (bounded memory): the same alarms,
    estimates, scores and predictions as one pass over the whole stream, the last window shorter."""
    window, n = 50, 1030
    stream, offline, deploy = teacher("covariate", 1.0, n, 500)
    module = random_module(stream.n_features, stream.n_classes)
    reference = Reference.build(module, offline, stream.n_classes)
    batches = []
    module.net[0].register_forward_hook(lambda layer, inputs, output: batches.append(len(inputs[0])))
    args = dict(window=window, alpha=0.05, seed=0, n_permutations=19, mmd_reference=100)
    whole = watch(module, reference, deploy.X, **args, chunk=10 * n)
    assert batches == [n]
    batches.clear()
    chunked = watch(module, reference, deploy.X, **args, chunk=120)  # 2 windows a pass
    assert batches == [100] * 10 + [30]
    pd.testing.assert_frame_equal(chunked.alarms, whole.alarms, check_exact=False, rtol=1e-9)
    assert chunked.alarms.alarm.equals(whole.alarms.alarm) and whole.alarms.alarm.any()
    assert chunked.alarms.t_end.max() == n and (chunked.alarms.t_end - chunked.alarms.t_start).min() == 30
    pd.testing.assert_frame_equal(chunked.estimates, whole.estimates, check_exact=False, rtol=1e-9)
    for name in whole.scores:
        np.testing.assert_allclose(chunked.scores[name], whole.scores[name], rtol=1e-9)
    np.testing.assert_array_equal(chunked.predicted, whole.predicted)
    np.testing.assert_allclose(chunked.confidence, whole.confidence, rtol=1e-12)
    expected = model_outputs(module, deploy.X)
    np.testing.assert_array_equal(whole.predicted, expected.proba.argmax(axis=1))
    np.testing.assert_allclose(whole.confidence, expected.confidence, rtol=1e-12)


def test_monitoring_never_reads_deployment_labels():
    cfg = compose_config(["drift=novel"])
    stream, offline, deploy = teacher("novel", 1.0, 1200, 500)
    module = random_module(stream.n_features, stream.n_classes)
    shuffled = dataclasses.replace(deploy, y=np.random.default_rng(0).permutation(deploy.y))
    args = (cfg, ["frozen"], module, offline)
    tables, summary = monitor_run(*args, deploy, stream.schedule, n_classes=stream.n_classes)
    tables_s, summary_s = monitor_run(*args, shuffled, stream.schedule, n_classes=stream.n_classes)

    pd.testing.assert_frame_equal(tables["alarms"], tables_s["alarms"])
    assert json.dumps(summary["frozen"]["detectors"]) == json.dumps(summary_s["frozen"]["detectors"])  # NaN == NaN
    label_free = ["strategy", "t_start", "t_end", "phase", "estimator", "estimated_accuracy"]
    pd.testing.assert_frame_equal(tables["estimates"][label_free], tables_s["estimates"][label_free])
    novel = tables["novelty"].target == "novel"
    pd.testing.assert_frame_equal(tables["novelty"][novel], tables_s["novelty"][novel])
    # the control: the columns that do read labels change, so the comparison can tell
    assert not np.allclose(tables["estimates"].realised_accuracy, tables_s["estimates"].realised_accuracy)
    assert not tables["novelty"][~novel].auroc.equals(tables_s["novelty"][~novel].auroc)


def test_novel_samples_are_flagged_in_the_novelty_table():
    cfg = compose_config(["drift=novel"])
    stream, offline, deploy = teacher("novel", 1.0, 1200, 500)
    tables, _ = monitor_run(cfg, ["frozen"], random_module(5, stream.n_classes), offline, deploy, stream.schedule,
                            n_classes=stream.n_classes)
    rows = tables["novelty"].query("target == 'novel' and phase == 'all'")
    assert set(rows.score) == {"msp", "energy", "mahalanobis"}
    assert (rows.n_pos == deploy.novel.sum()).all() and deploy.novel.sum() > 0


def test_model_outputs_match_the_shipped_probabilities():
    module = random_module(4, 3)
    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    outputs = model_outputs(module, X)
    with torch.inference_mode():
        expected = module(torch.as_tensor(X)).double().numpy()
    assert outputs.proba == pytest.approx(expected, abs=1e-6)
    assert outputs.features.shape == (20, 16)
    linear = freeze(Calibrated(nn.Linear(4, 3), 1.0))
    assert model_outputs(linear, X).features == pytest.approx(X)  # a logistic model's "features" are its inputs


@pytest.mark.parametrize(
    "override, message",
    [
        ("monitor.alpha=1.5", r"monitor.alpha=1.5 is invalid: must be in \(0, 1\)"),
        ("monitor.window=1", r"monitor.window=1 is invalid"),
        ("monitor.detectors=[ks_inputs,kss]", r"'kss' is not one of \['ks_inputs'"),
        ("monitor.strategies=[river_logreg2]", r"'river_logreg2', which is not a strategy of this run"),
        ("monitor.coverages=[0.5,0]", r"monitor.coverages=\[0.5, 0.0\] is invalid"),
    ],
)
def test_bad_monitor_config_is_refused_before_any_compute(override, message):
    with pytest.raises(ConfigError, match=message):
        check_monitor(compose_config([override]))


# ---- retrain_on_alarm ---------------------------------------------------------------------------


def shifted_inputs(onset: int, n_deploy: int = 300):
    """The helpers' tiny stream with every input moved by +3 from ``onset`` on (labels unchanged)."""
    from tests.helpers import make_data

    offline, deploy = make_data(n_deploy=n_deploy, onset=n_deploy)  # labels not permuted
    X = deploy.X.copy()
    X[onset:] += 3.0
    return offline, dataclasses.replace(deploy, X=X)


def test_retrain_on_alarm_takes_labels_only_after_a_label_free_alarm():
    from tests.helpers import build, run_strategy

    onset, per_alarm = 100, 30
    offline, deploy = shifted_inputs(onset)
    strategy = build("retrain_on_alarm", "strategy.retrain_on_alarm.window=20",
                     "strategy.retrain_on_alarm.alpha=0.01", f"strategy.retrain_on_alarm.labels_per_alarm={per_alarm}",
                     "strategy.retrain_on_alarm.max_epochs=5")
    record = run_strategy(strategy, offline, deploy)
    assert strategy.alarms and min(strategy.alarms) >= onset, strategy.alarms
    used = np.flatnonzero(record.label_used)
    # the first labels to arrive after an alarm are those of the block of `step` it fired in
    assert used.min() > strategy.alarms[0] - strategy.step
    assert per_alarm * strategy.n_retrains <= len(used) < per_alarm * (strategy.n_retrains + 1)
    assert strategy.n_retrains >= 1
    assert np.array_equal(used[:per_alarm], np.arange(used[0], used[0] + per_alarm))  # the next ones, in order


def test_retrain_on_alarm_without_shift_uses_no_label():
    from tests.helpers import build, run_strategy

    offline, deploy = shifted_inputs(onset=300)  # never shifts
    strategy = build("retrain_on_alarm", "strategy.retrain_on_alarm.window=50", "strategy.retrain_on_alarm.alpha=0.001")
    record = run_strategy(strategy, offline, deploy)
    assert strategy.alarms == [] and record.label_used.sum() == 0 and strategy.n_retrains == 0


def test_the_confidence_test_on_a_model_of_one_confidence_answers_without_a_warning():
    """A collapsed model's confidence is one value on every input: scipy's answer stands (NaN, no evidence,
    for one value on both sides; a certain difference for two), as scipy itself computes it, and its
    "nearly identical" warning is not printed once per window."""
    from scipy import stats

    same, moved = np.full(60, 0.9), np.full(40, 0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(math.isnan(v) for v in shift.confidence_test(same, same))
        statistic, p_value = shift.confidence_test(moved, same)
    assert abs(statistic) > 1e6 and p_value < 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert p_value == stats.ttest_ind(moved, same, equal_var=False).pvalue


def test_a_ks_test_scipy_cannot_compute_exactly_takes_its_asymptotic_answer_without_a_warning():
    """Two samples of 300 zeros and ones (a token flag, a binned score): scipy's exact p-value fails and it
    switches to the asymptotic one with a warning, once per monitored window; the answer is scipy's, the
    warning is not printed. With a missing value the per-column path gives the same."""
    from scipy import stats

    reference = np.r_[np.ones(50), np.zeros(250)][:, None]
    window = np.r_[np.ones(51), np.zeros(249)][:, None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = stats.ks_2samp(reference[:, 0], window[:, 0])
    assert any("Exact calculation unsuccessful" in str(w.message) for w in caught)  # the case scipy warns on
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert shift.ks_bonferroni(reference, window) == (expected.statistic, min(1.0, expected.pvalue))
        missing = np.r_[window, [[np.nan]]]
        assert shift.ks_bonferroni(reference, missing) == (expected.statistic, min(1.0, expected.pvalue))
