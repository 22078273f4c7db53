"""Faults of the data pipeline (drift.kind=pipeline): each fault's values and ground truth checked by
hand on tiny arrays, severity 0 giving the unfaulted stream exactly, the default features' rule, and
how each side reads a missing value (the torch network imputes the offline mean, River leaves the key out)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from river import compose, evaluate, linear_model, metrics, multiclass, preprocessing, tree
from scipy import stats

from harness.offline.models import Calibrated, Standardize, predict_proba
from harness.pipeline.replay import replay
from harness.streams import build_stream
from harness.streams.base import DriftSchedule
from harness.streams.faults import FAULTS, FaultPlan, default_features, touched_runs
from harness.validation.checks import build_checked
from tests.conftest import compose_config
from tests.user_strategies import Frequencies

SMALL = ["stream.n_offline=300", "stream.n_deploy=400", "drift.onset=100"]


def plan(fault, *, severity=1.0, pattern="sudden", onset=2, width=0, features=(0, 2), sd=(1.0, 1.0, 2.0),
         last=(7.0, 8.0, 9.0)):
    """A plan on 3 features, offline SDs ``sd`` and last offline values ``last``."""
    schedule = DriftSchedule("pipeline", pattern, severity, onset, width)
    return FaultPlan((fault,) if isinstance(fault, str) else tuple(fault), tuple(features), schedule, 0,
                     np.asarray(sd), np.asarray(last))


X = np.arange(15, dtype=np.float64).reshape(5, 3)  # rows t = 0..4, values 0..14
T = np.arange(5)
AFTER = np.array([[False] * 3] * 2 + [[True, False, True]] * 3)  # t >= 2, features 0 and 2


@pytest.mark.parametrize("fault", FAULTS)
def test_severity_zero_gives_the_unfaulted_values_exactly(fault):
    out, touched = plan(fault, severity=0.0).apply(X.astype(np.float32), T, 0)
    assert out.dtype == np.float32 and np.array_equal(out, X.astype(np.float32)) and not touched.any()


@pytest.mark.parametrize("fault", FAULTS)
def test_severity_zero_stream_is_the_unfaulted_stream(fault):
    base = compose_config([*SMALL, "drift.kind=none", "drift.pattern=none", "drift.severity=0"], tiny=False)
    clean = build_stream(base.stream, base.drift, 0).deploy()
    cfg = compose_config([*SMALL, "drift=pipeline", f"drift.fault={fault}", "drift.severity=0",
                          "drift.features=[0,1]"], tiny=False)
    faulted = build_stream(cfg.stream, cfg.drift, 0).deploy()
    assert np.array_equal(faulted.X, clean.X) and np.array_equal(faulted.y, clean.y)
    assert not faulted.faults.any()


def test_scale_multiplies_the_chosen_features_by_1000_to_the_severity():
    out, touched = plan("scale").apply(X, T, 0)
    expected = X.copy()
    expected[2:, [0, 2]] *= 1000.0
    assert np.array_equal(out, expected) and np.array_equal(touched, AFTER)
    half, _ = plan("scale", severity=0.5).apply(X, T, 0)
    assert half[4, 0] == pytest.approx(12 * math.sqrt(1000.0))


def test_offset_adds_three_offline_sds_times_the_severity():
    out, touched = plan("offset", severity=0.5).apply(X, T, 0)
    expected = X.copy()
    expected[2:, 0] += 1.5  # 0.5 * 3 * sd 1
    expected[2:, 2] += 3.0  # 0.5 * 3 * sd 2
    assert np.array_equal(out, expected) and np.array_equal(touched, AFTER)


def test_missing_at_severity_one_blanks_every_chosen_value_after_onset():
    out, touched = plan("missing").apply(X, T, 0)
    assert np.array_equal(np.isnan(out), AFTER) and np.array_equal(touched, AFTER)
    assert np.array_equal(out[~AFTER], X[~AFTER])


def test_stuck_repeats_the_last_value_before_the_fault():
    out, touched = plan("stuck").apply(X, T, 0)
    expected = X.copy()
    expected[2:, 0], expected[2:, 2] = X[1, 0], X[1, 2]
    assert np.array_equal(out, expected) and np.array_equal(touched, AFTER)
    from_start, _ = plan("stuck", onset=0).apply(X, T, 0)  # stuck from the first sample: the last offline value
    assert from_start[:, 0].tolist() == [7.0] * 5 and from_start[:, 2].tolist() == [9.0] * 5


def test_swap_exchanges_the_two_chosen_features():
    out, touched = plan("swap").apply(X, T, 0)
    expected = X.copy()
    expected[2:, 0], expected[2:, 2] = X[2:, 2], X[2:, 0]
    assert np.array_equal(out, expected) and np.array_equal(touched, AFTER)
    rotated, _ = plan("swap", features=(0, 1, 2)).apply(X, T, 0)  # three: each gets the one before's value
    assert rotated[4].tolist() == [14.0, 12.0, 13.0]


def test_noise_has_three_offline_sds_times_the_severity_and_common_random_numbers():
    n = 20000
    x = np.zeros((n, 3))
    out, touched = plan("noise", onset=0, severity=0.5).apply(x, np.arange(n), 0)
    assert out[:, 1].tolist() == [0.0] * n and touched[:, [0, 2]].all() and not touched[:, 1].any()
    assert np.std(out[:, 0]) == pytest.approx(1.5, rel=0.03) and np.std(out[:, 2]) == pytest.approx(3.0, rel=0.03)
    full, _ = plan("noise", onset=0, severity=1.0).apply(x, np.arange(n), 0)
    assert np.allclose(full, 2 * out)  # the same draws at every severity


def test_a_gradual_missing_fault_touches_a_rising_share():
    n = 40000
    p = plan("missing", pattern="gradual", onset=0, width=n, features=(0,))
    out, touched = p.apply(np.zeros((n, 3)), np.arange(n), 0)
    halves = np.isnan(out[:, 0]).reshape(2, -1).mean(axis=1)
    assert halves == pytest.approx([0.25, 0.75], abs=0.02)  # the mean progress of each half
    assert np.array_equal(touched[:, 0], np.isnan(out[:, 0]))


def test_faults_listed_apply_in_order():
    out, _ = plan(["offset", "scale"]).apply(X, T, 0)
    assert out[4, 0] == (12 + 3.0) * 1000 and out[4, 2] == (14 + 6.0) * 1000


def test_the_ground_truth_runs_are_those_of_the_mask():
    runs = touched_runs(AFTER, ["a", "b", "c"])
    assert runs.values.tolist() == [[0, "a", 2, 5], [2, "c", 2, 5]]


def test_the_stream_touches_exactly_the_values_that_changed():
    cfg = compose_config([*SMALL, "drift=pipeline", "drift.fault=scale", "drift.features=[x_1,3]"], tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    quiet = compose_config([*SMALL, "drift.kind=none", "drift.pattern=none", "drift.severity=0"], tiny=False)
    clean = build_stream(quiet.stream, quiet.drift, 0).deploy().X
    data = stream.deploy()
    assert stream.plan.features == (1, 3)
    assert np.array_equal(data.faults, data.X != clean)  # no generated value is 0 exactly
    assert data.faults[:100].sum() == 0 and data.faults[100:, [1, 3]].all()
    assert (data.phase[:100] == "pre").all() and (data.phase[100:] == "post").all()


def test_default_features_are_those_with_the_largest_anova_f_on_the_offline_training_split():
    cfg = compose_config([*SMALL, "drift=pipeline"], tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    offline = stream.offline()
    f = [stats.f_oneway(*(offline.X_train[offline.y_train == k, j] for k in np.unique(offline.y_train))).statistic
         for j in range(offline.X_train.shape[1])]
    assert stream.plan.features == tuple(sorted(np.argsort(f)[::-1][:2].tolist()))
    assert default_features(np.array([[0.0, 1], [0, 1], [5, 1], [5, 1]]), np.array([0, 0, 1, 1]), 1) == (0,)


def test_the_network_imputes_a_missing_value_with_the_offline_training_mean():
    torch.manual_seed(0)
    scaler = Standardize(np.array([1.0, -2.0]), np.array([2.0, 0.5]))
    module = Calibrated(torch.nn.Sequential(scaler, torch.nn.Linear(2, 3)), 1.0)
    with_nan = np.array([[np.nan, 3.0], [0.5, np.nan]], dtype=np.float32)
    imputed = np.array([[1.0, 3.0], [0.5, -2.0]], dtype=np.float32)
    expected = predict_proba(module, imputed)
    assert torch.isfinite(expected).all()
    assert torch.equal(predict_proba(module, with_nan), expected)  # the fast path
    with torch.no_grad():
        assert torch.equal(module(torch.as_tensor(with_nan)), module(torch.as_tensor(imputed)))


class Recorder(Frequencies):
    """Keeps every row it was asked about: what a user's strategy receives."""

    def __init__(self, n_classes: int = 3):
        super().__init__(n_classes)
        self.rows = []

    def predict_proba(self, X):
        self.rows.append(np.array(X, copy=True))
        return super().predict_proba(X)


def test_a_users_strategy_gets_the_missing_values_as_nan():
    cfg = compose_config([*SMALL, "drift=pipeline", "drift.fault=missing", "drift.features=[2]"], tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    deploy, strategy = stream.deploy(), Recorder(stream.n_classes)
    replay(deploy, {"mine": strategy}, n_classes=stream.n_classes, progress=False)
    seen = np.vstack(strategy.rows)
    assert np.array_equal(np.isnan(seen), deploy.faults) and np.isnan(seen[100:, 2]).all()


def bare(name: str):
    """The River model of ``conf/strategy/<name>.yaml``, built by hand."""
    if name == "river_logreg":
        return compose.Pipeline(preprocessing.StandardScaler(),
                                multiclass.OneVsRestClassifier(linear_model.LogisticRegression()))
    return tree.HoeffdingAdaptiveTreeClassifier(seed=0)


@pytest.mark.parametrize("name", ["river_logreg", "river_hat"])
def test_river_on_missing_values_equals_bare_river_with_the_keys_left_out(name):
    cfg = compose_config([*SMALL, "drift=pipeline", "drift.fault=missing", "drift.severity=0.5",
                          "drift.features=[0,3,5]", f"strategy=[{name}]"], tiny=False)
    stream, strategies = build_checked(cfg)
    offline, deploy = stream.offline(), stream.deploy()
    assert 0.3 < np.isnan(deploy.X[100:, 3]).mean() < 0.7

    def dicts(X):
        return [{f"x_{j}": v for j, v in enumerate(row) if not math.isnan(v)} for row in X.tolist()]

    model = bare(name)
    for X, y in ((offline.X_train, offline.y_train), (offline.X_val, offline.y_val)):
        for x, label in zip(dicts(X), y.tolist()):
            model.learn_one(x, label)
    expected = evaluate.progressive_val_score(zip(dicts(deploy.X), deploy.y.tolist()), model, metrics.Accuracy())
    strategy = strategies[name]
    strategy.fit_offline(offline, None)
    record = replay(deploy, {name: strategy}, n_classes=stream.n_classes, progress=False)[name]
    accuracy = float(np.mean(np.asarray(record.proba).argmax(axis=1) == deploy.y))
    assert accuracy == pytest.approx(expected.get(), abs=1e-12)
