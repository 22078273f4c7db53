"""What each kind of strategy does, checked against values worked out by hand or by River itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from river import compose, evaluate, linear_model, metrics, multiclass, preprocessing

from harness.pipeline.replay import label_mask
from harness.strategies.river import to_dicts
from tests.helpers import K, build, make_data, pretrained, run_strategy

U = [1 / 3, 1 / 3, 1 / 3]
E = np.eye(3).tolist()
SEQUENCE = np.array([2, 0, 0, 1, 1, 1, 2])


def hand_made():
    offline, deploy = make_data(n_deploy=len(SEQUENCE))
    return offline, type(deploy)(deploy.X, SEQUENCE, *(getattr(deploy, f) for f in ("t", "phase", "drift_progress",
                                                                                    "novel")))  # fmt: skip


def test_no_change_predicts_the_last_label_with_certainty():
    offline, deploy = hand_made()
    record = run_strategy(build("no_change", "strategy.no_change.warm_start=false"), offline, deploy)
    np.testing.assert_allclose(record.proba, [U, E[2], E[0], E[0], E[1], E[1], E[1]])


def test_majority_predicts_the_label_frequencies_so_far():
    offline, deploy = hand_made()
    record = run_strategy(build("majority", "strategy.majority.warm_start=false"), offline, deploy)
    expected = [U, [0, 0, 1], [1 / 2, 0, 1 / 2], [2 / 3, 0, 1 / 3], [2 / 4, 1 / 4, 1 / 4], [2 / 5, 2 / 5, 1 / 5],
                [2 / 6, 3 / 6, 1 / 6]]  # fmt: skip
    np.testing.assert_allclose(record.proba, expected)
    assert record.proba.argmax(axis=1).tolist() == [0, 2, 0, 0, 0, 0, 1]  # ties go to the lowest index


def test_anchors_start_from_the_offline_labels():
    offline, deploy = hand_made()
    first_no_change = run_strategy(build("no_change"), offline, deploy).proba[0]
    first_majority = run_strategy(build("majority"), offline, deploy).proba[0]
    np.testing.assert_allclose(first_no_change, np.eye(K)[offline.y_val[-1]])
    labels = np.concatenate([offline.y_train, offline.y_val])
    np.testing.assert_allclose(first_majority, np.bincount(labels, minlength=K) / len(labels))


def test_river_logreg_through_the_harness_equals_progressive_val_score():
    offline, deploy = make_data(n_offline=200, n_deploy=400)
    record = run_strategy(build("river_logreg"), offline, deploy)

    # three classes: River's one-vs-rest over its binary LogisticRegression
    model = compose.Pipeline(preprocessing.StandardScaler(),
                             multiclass.OneVsRestClassifier(linear_model.LogisticRegression()))
    for X, y in ((offline.X_train, offline.y_train), (offline.X_val, offline.y_val)):
        for row, label in zip(to_dicts(X), y.tolist()):
            model.learn_one(row, label)
    expected = evaluate.progressive_val_score(
        dataset=zip(to_dicts(deploy.X), deploy.y.tolist()), model=model, metric=metrics.Accuracy()
    )
    assert np.mean(record.proba.argmax(axis=1) == deploy.y) == pytest.approx(expected.get(), abs=1e-12)


def test_retrain_periodic_retrains_every_so_many_labels():
    offline, deploy = make_data()  # 150 labels, every=40 -> retrainings after labels 40, 80, 120
    record = run_strategy(build("retrain_periodic"), offline, deploy)
    assert record.n_retrains == 3
    half = label_mask(len(deploy), 0.5, seed=0)  # 75 labels -> after 40 only
    assert run_strategy(build("retrain_periodic"), offline, deploy, labelled=half).n_retrains == 1


DETECTORS = ["river.drift.ADWIN", "river.drift.PageHinkley", "river.drift.KSWIN", "river.drift.binary.DDM",
             "river.drift.binary.HDDMW", "river.drift.binary.FHDDM"]  # fmt: skip


@pytest.mark.parametrize("detector", DETECTORS)
def test_retrain_triggered_detects_the_drift_and_retrains(detector):
    offline, deploy = make_data(n_deploy=600, onset=300)
    mask = label_mask(len(deploy), 0.9, seed=3)
    strategy = build("retrain_triggered", f"strategy.retrain_triggered.detector._target_={detector}",
                     "strategy.retrain_triggered.min_samples=100")  # fmt: skip
    record = run_strategy(strategy, offline, deploy, labelled=mask)
    assert type(strategy._detector).__name__ == detector.rsplit(".", 1)[1]
    assert any(300 <= t < 500 for t in record.detections), record.detections
    assert record.n_retrains >= 1
    assert mask[record.detections].all()  # a detection is the time of a labelled sample


@pytest.mark.slow
def test_a_seeded_detector_gets_the_run_seed():
    strategy = build("retrain_triggered", "strategy.retrain_triggered.detector._target_=river.drift.KSWIN", "seed=7")
    strategy.fit_offline(*make_data()[:1], pretrained())
    assert strategy._detector.seed == 7


def test_finetune_replay_mixes_offline_samples_and_counts_their_memory():
    offline, deploy = make_data()
    plain = run_strategy(build("finetune"), offline, deploy)
    mixed_strategy = build("finetune", "strategy.finetune.replay_share=0.5", "strategy.finetune.replay_size=50")
    mixed = run_strategy(mixed_strategy, offline, deploy)
    assert plain.n_updates == mixed.n_updates == -(-len(deploy) // 32)
    assert not np.array_equal(plain.proba, mixed.proba)
    d = offline.X_train.shape[1]
    assert mixed.memory_bytes[-1] - plain.memory_bytes[-1] == 50 * (4 * d + 8)  # float32 rows + int64 labels


@pytest.mark.slow
def test_frozen_uncalibrated_serves_the_same_network_at_temperature_one():
    offline, deploy = make_data()
    calibrated, plain = build("frozen"), build("frozen_uncalibrated")
    for strategy in (calibrated, plain):
        strategy.fit_offline(offline, pretrained())
    assert pretrained().temperature != 1.0
    logits = pretrained().module.net(torch.as_tensor(deploy.X)).detach().numpy().astype(np.float64)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(plain.predict_proba(deploy.X), softmax / softmax.sum(axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_array_equal(calibrated.predict_proba(deploy.X).argmax(1), plain.predict_proba(deploy.X).argmax(1))


@pytest.mark.slow
def test_frozen_ensemble_averages_distinct_members():
    offline, deploy = make_data()
    strategy = build("frozen_ensemble")
    strategy.fit_offline(offline, pretrained())
    members = [m(torch.as_tensor(deploy.X)).numpy().astype(np.float64) for m in strategy.members]
    assert len(members) == 2 and not np.allclose(members[0], members[1])
    np.testing.assert_allclose(strategy.predict_proba(deploy.X), (members[0] + members[1]) / 2)


def test_memory_is_flat_for_frozen_and_grows_for_a_forest():
    offline, deploy = make_data(n_deploy=300)
    frozen = run_strategy(build("frozen"), offline, deploy)
    forest = run_strategy(build("river_arf"), offline, deploy)
    assert len(set(frozen.memory_bytes)) == 1 and len(frozen.memory_bytes) >= 2
    assert len(forest.memory_bytes) == 7 and forest.memory_bytes[-1] > forest.memory_bytes[0]
