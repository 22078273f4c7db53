"""The contract every strategy in conf/strategy keeps, whatever it is."""

from __future__ import annotations

import numpy as np
import pytest
from river import naive_bayes

from harness.replay import label_mask
from harness.strategies.river import RiverClassifier, shared_dicts, to_dicts
from tests.helpers import K, STATIC, STRATEGIES, build, make_data, pretrained, run_strategy, with_labels


def assert_probabilities(proba: np.ndarray, n: int) -> None:
    assert proba.shape == (n, K)
    assert np.isfinite(proba).all() and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)  # float32 networks: 1e-7


def test_every_strategy_is_listed():
    assert len(STRATEGIES) >= 16 and {"frozen", "retrain_triggered", "river_knn", "no_change"} <= set(STRATEGIES)


@pytest.mark.parametrize("name", STRATEGIES)
def test_probabilities_are_valid_before_and_after_labels(name):
    offline, deploy = make_data()
    strategy = build(name)
    strategy.fit_offline(offline, pretrained())
    assert_probabilities(strategy.predict_proba(deploy.X[:5]), 5)  # no deployment label yet
    record = run_strategy(build(name), offline, deploy, label_delay=3)
    assert_probabilities(record.proba, len(deploy))


RIVER = [name for name in STRATEGIES if name.startswith("river_") or name in ("no_change", "majority")]


@pytest.mark.parametrize("name", RIVER)
def test_river_strategies_answer_uniformly_before_their_first_label(name):
    offline, deploy = make_data()
    strategy = build(name, f"strategy.{name}.warm_start=false")
    strategy.fit_offline(offline, pretrained())
    np.testing.assert_allclose(strategy.predict_proba(deploy.X[:3]), np.full((3, K), 1 / K))
    strategy.learn(deploy.X[:1], deploy.y[:1])  # one label: some classes still unseen
    assert_probabilities(strategy.predict_proba(deploy.X[1:4]), 3)


@pytest.mark.parametrize("name", STRATEGIES)
def test_inputs_are_not_mutated(name):
    offline, deploy = make_data()
    copies = [a.copy() for a in (offline.X_train, offline.y_train, offline.X_val, offline.y_val, deploy.X, deploy.y)]
    strategy = build(name)
    run_strategy(strategy, offline, deploy, labelled=label_mask(len(deploy), 0.6, seed=1), label_delay=2)
    for before, after in zip(copies, (offline.X_train, offline.y_train, offline.X_val, offline.y_val, deploy.X,
                                      deploy.y)):  # fmt: skip
        np.testing.assert_array_equal(before, after)
    if isinstance(strategy, RiverClassifier):  # the feature dicts shared by River strategies, too
        assert shared_dicts(deploy.X) == to_dicts(deploy.X)


@pytest.mark.parametrize("name", STRATEGIES)
def test_same_seed_same_predictions(name):
    offline, deploy = make_data()
    first, second = (run_strategy(build(name), offline, deploy) for _ in range(2))
    np.testing.assert_array_equal(first.proba, second.proba)
    assert first.n_updates == second.n_updates


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_fresh_instance_holds_no_state_from_a_previous_run(name):
    offline, deploy = make_data(seed=0)
    other_offline, other_deploy = make_data(seed=5)
    reference = run_strategy(build(name), offline, deploy)
    run_strategy(build(name), other_offline, other_deploy)  # a previous run on other data
    again = run_strategy(build(name), offline, deploy)
    np.testing.assert_array_equal(reference.proba, again.proba)
    assert (reference.n_updates, reference.n_retrains) == (again.n_updates, again.n_retrains)
    if reference.detections is not None:
        np.testing.assert_array_equal(reference.detections, again.detections)


@pytest.mark.parametrize("name", STRATEGIES)
def test_only_frozen_strategies_promise_fixed_weights_and_keep_them(name):
    offline, deploy = make_data()
    strategy = build(name)
    strategy.fit_offline(offline, pretrained())
    before, probe = strategy.fingerprint(), strategy.predict_proba(offline.X_val)
    if name not in STATIC:
        assert before is None
        return
    from harness.replay import replay

    replay(deploy, {name: strategy}, n_classes=K, progress=False)
    assert strategy.fingerprint() == before
    np.testing.assert_array_equal(strategy.predict_proba(offline.X_val), probe)


@pytest.mark.parametrize("name", STRATEGIES)
def test_no_label_is_learned_before_its_sample_is_predicted(name):
    """Replace every label from ``s`` on by one that depends on the next sample's (the future):
    predictions up to and including sample ``s`` must not move; for a learner, later ones must."""
    offline, deploy = make_data()
    honest = run_strategy(build(name), offline, deploy)
    for s in (10, 90):
        moved = run_strategy(build(name), offline, with_labels(deploy, future_labels(deploy.y, s)))
        np.testing.assert_array_equal(moved.proba[: s + 1], honest.proba[: s + 1])
        if name in STATIC:
            np.testing.assert_array_equal(moved.proba, honest.proba)
        elif s == 10:
            assert not np.array_equal(moved.proba, honest.proba), "the labels changed nothing: the check is blind"


def future_labels(y: np.ndarray, s: int) -> np.ndarray:
    """From ``s`` on, each label is replaced by one that differs from it and depends on the next label."""
    nxt = np.append(y[1:], y[-1])
    out = y.copy()
    out[s:] = ((y + 1 + (nxt == y)) % K)[s:]
    return out


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

    assert not np.array_equal(train_then_test(future_labels(deploy.y, s))[: s + 1], train_then_test(deploy.y)[: s + 1])
