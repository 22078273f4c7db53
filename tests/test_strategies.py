"""The contract every strategy in conf/strategy keeps (``harness.pipeline.testing.check_strategy``, the suite
a user's strategy runs too), and what the contract cannot know about a given strategy."""

from __future__ import annotations

import numpy as np
import pytest
from river import naive_bayes

from harness.pipeline.replay import label_mask
from harness.pipeline.testing import check_strategy, future_labels
from harness.strategies.river import RiverClassifier, to_dicts
from tests.helpers import STATIC, STRATEGIES, K, build, make_data, pretrained, run_strategy, with_labels


def test_every_strategy_is_listed():
    assert len(STRATEGIES) >= 16 and {"frozen", "retrain_triggered", "river_knn", "no_change"} <= set(STRATEGIES)


@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES)
def test_the_contract_holds(name):
    check_strategy(lambda: build(name), name=name)


RIVER = [name for name in STRATEGIES if name.startswith("river_") or name in ("no_change", "majority")]


@pytest.mark.slow
@pytest.mark.parametrize("name", RIVER)
def test_river_strategies_answer_uniformly_before_their_first_label(name):
    offline, deploy = make_data()
    strategy = build(name, f"strategy.{name}.warm_start=false")
    strategy.fit_offline(offline, pretrained())
    np.testing.assert_allclose(strategy.predict_proba(deploy.X[:3]), np.full((3, K), 1 / K))
    strategy.learn(deploy.X[:1], deploy.y[:1])  # one label: some classes still unseen
    proba = strategy.predict_proba(deploy.X[1:4])
    assert proba.shape == (3, K) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)


def test_river_reads_the_stream_as_dicts_made_when_read_from_the_array_itself():
    """``prepare`` keeps the array, not a dict per row (memory of a 10M-sample stream): slices and
    indices give the dicts ``to_dicts`` makes, and a replay with partial, delayed labels leaves the
    stream as it was."""
    offline, deploy = make_data()
    rows = build("river_knn").prepare(deploy.X)
    assert rows.X is deploy.X and len(rows) == len(deploy.X)
    everything = to_dicts(deploy.X)
    assert rows[2:5] == everything[2:5] and rows[:] == everything
    assert rows[3] == everything[3] and rows[-1] == everything[-1]
    before = deploy.X.copy()
    run_strategy(build("river_knn"), offline, deploy, labelled=label_mask(len(deploy), 0.6, seed=1), label_delay=2)
    np.testing.assert_array_equal(deploy.X, before)


@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES)
def test_only_frozen_strategies_promise_fixed_weights(name):
    strategy = build(name)
    strategy.fit_offline(make_data()[0], pretrained())
    assert (strategy.fingerprint() is not None) == (name in STATIC)


@pytest.mark.parametrize("name", STRATEGIES)
def test_labels_move_a_learner_and_never_a_static_strategy(name):
    """The contract's prequential check is not blind: changed labels from sample 10 on do move a
    learner's later predictions (and leave a static strategy's as they were)."""
    offline, deploy = make_data()
    honest = run_strategy(build(name), offline, deploy)
    moved = run_strategy(build(name), offline, with_labels(deploy, future_labels(deploy.y, 10, K)))
    if name in STATIC:
        np.testing.assert_array_equal(moved.proba, honest.proba)
    else:
        assert not np.array_equal(moved.proba, honest.proba), "the labels changed nothing: the check is blind"


@pytest.mark.slow
def test_the_future_label_check_catches_a_loop_that_learns_first():
    """The same check on a loop that learns each label before predicting its sample fails."""
    offline, deploy = make_data()
    s = 10

    def train_then_test(y):
        model = RiverClassifier(model=naive_bayes.GaussianNB(), n_classes=K)
        model.fit_offline(offline, None)
        rows = to_dicts(deploy.X)
        out = []
        for i in range(len(y)):
            model.learn(rows[i : i + 1], y[i : i + 1])
            out.append(model.predict_proba(rows[i : i + 1])[0])
        return np.array(out)

    moved = train_then_test(future_labels(deploy.y, s, K))
    assert not np.array_equal(moved[: s + 1], train_then_test(deploy.y)[: s + 1])
