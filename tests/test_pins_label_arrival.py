"""When each label reaches a strategy, pinned sample by sample.

A recording strategy logs every predict call's index range and every ``(t, label)`` handed to
``learn``, over a stream whose first feature is the sample's index. The expected log is written from
the rule itself, not from the loop: the label of sample ``j`` arrives only after the prediction of
sample ``j + label_delay`` is recorded, at the first ``learn`` call after that, and only if it is in
the mask. ``Record.label_used`` must be exactly the labels handed over.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from harness.pipeline.replay import label_mask, measured_blocks, replay, serving_chunks
from harness.pipeline.testing import make_data
from harness.strategies.base import BaseStrategy
from harness.streams.base import DeployData

N, K = 23, 3  # 23 is not a multiple of step 3: the last block is short


class Recorder(BaseStrategy):
    """Answers probabilities that depend on the sample's index; logs ``("predict", first, end)`` and ``("learn", [(t, y), ...])``
    in call order (``t`` read from the first input column)."""

    def __init__(self, step: int):
        self.step = step
        self.log: list[tuple] = []
        self.predicted = 0

    def predict_proba(self, X):
        self.log.append(("predict", self.predicted, self.predicted + len(X)))
        self.predicted += len(X)
        return answer(np.asarray(X)[:, 0].astype(int))

    def learn(self, X, y):
        assert len(X) == len(y), (len(X), len(y))  # every label comes with its own input
        self.log.append(("learn", [(int(x[0]), int(label)) for x, label in zip(X, y)]))


def answer(t: np.ndarray) -> np.ndarray:
    """The probabilities the recorder answers for samples ``t``: 0.5 on class ``t % K``, the rest even."""
    return np.eye(K)[t % K] * 0.25 + 0.25


def indexed_stream() -> DeployData:
    """``make_data``'s deployment stream cut to ``N`` samples, with feature 0 = the sample's index."""
    _, deploy = make_data(n_deploy=N)
    X = deploy.X.copy()
    X[:, 0] = np.arange(N)
    return DeployData(X, deploy.y, deploy.t, deploy.phase, deploy.drift_progress, deploy.novel)


def expected_log(y, step: int, delay: int, labelled: np.ndarray) -> list[tuple]:
    """The log the rule gives: after each prediction, note which labels are now due (``j + delay``
    predicted); the due labels are handed over at the end of the block, in time order."""
    log, due, handed = [], [], set()
    for start in range(0, N, step):
        for i in range(start, min(start + step, N)):
            log.append(("predict", i, i + 1))
            j = i - delay  # the label whose prediction-plus-delay has just been recorded
            if j >= 0 and labelled[j]:
                due.append(j)
        if due:
            log.append(("learn", [(j, int(y[j])) for j in due]))
            handed.update(due)
            due = []
    return log


MASKS = {
    "all": np.ones(N, dtype=bool),
    # gaps early, and around every boundary n - 1 - delay / n - delay for the delays below
    "gaps": np.array([j not in (1, 2, 5, 9, 10, 11, 14) for j in range(N)]),
    # only the boundary labels of delay 7 and the first and last sample
    "boundary": np.isin(np.arange(N), [0, N - 8, N - 7, N - 1]),
    # a single label, the last one that can arrive with delay 2
    "one": np.isin(np.arange(N), [N - 3]),
}


@pytest.mark.parametrize("mask_name", sorted(MASKS))
@pytest.mark.parametrize("step", [1, 3])
@pytest.mark.parametrize("delay", [0, 1, 2, 7])
def test_each_label_arrives_after_its_delayed_prediction_and_label_used_is_exact(delay, step, mask_name):
    deploy, mask = indexed_stream(), MASKS[mask_name]
    strategy = Recorder(step)
    labelled = None if mask_name == "all" else mask  # None: the loop's all-labelled fast path
    record = replay(deploy, {"r": strategy}, n_classes=K, label_delay=delay, labelled=labelled, progress=False)["r"]

    assert strategy.log == expected_log(deploy.y, step, delay, mask)
    arrived = mask & (np.arange(N) + delay <= N - 1)  # the prediction j + delay exists
    np.testing.assert_array_equal(record.label_used, arrived)
    assert strategy.n_updates == int(arrived.sum())


def test_the_boundary_labels_by_hand():
    """Delay 2, step 3, every label: values written out, not computed."""
    deploy = indexed_stream()
    strategy = Recorder(3)
    record = replay(deploy, {"r": strategy}, n_classes=K, label_delay=2, progress=False)["r"]
    learned = [[t for t, _ in entry[1]] for entry in strategy.log if entry[0] == "learn"]
    # after predictions 0-2: label 0; 3-5: 1..3; ...; 21-22 (short block): 17..20
    assert learned == [[0], [1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15], [16, 17, 18], [19, 20]]
    assert record.label_used.tolist() == [True] * 21 + [False, False]
    first_learn = strategy.log.index(("learn", [(0, int(deploy.y[0]))]))
    assert strategy.log[first_learn - 1] == ("predict", 2, 3)  # label 0 only once prediction 0 + 2 is stored


def test_batched_serving_hands_the_same_labels_after_whole_blocks():
    """``serve_batch=0``: one predict call per block; the labels handed over do not change."""
    deploy, mask = indexed_stream(), MASKS["gaps"]
    per_request, batched = Recorder(3), Recorder(3)
    replay(deploy, {"r": per_request}, n_classes=K, label_delay=1, labelled=mask, progress=False)
    replay(deploy, {"r": batched}, n_classes=K, label_delay=1, labelled=mask, progress=False, serve_batch=0)
    calls = [entry[1:] for entry in batched.log if entry[0] == "predict"]
    assert calls == [(a, min(a + 3, N)) for a in range(0, N, 3)]
    learns = [entry for entry in per_request.log if entry[0] == "learn"]
    assert [entry for entry in batched.log if entry[0] == "learn"] == learns


def test_the_defaults_reveal_every_label_at_once_and_the_record_holds_each_answer_in_place(tmp_path):
    deploy = indexed_stream()
    strategy = Recorder(3)
    record = replay(deploy, {"r": strategy}, n_classes=K, progress=False)["r"]
    assert strategy.log == expected_log(deploy.y, 3, 0, MASKS["all"])
    assert record.label_used.dtype == bool and record.label_used.all()
    np.testing.assert_array_equal(record.proba, answer(np.arange(N)))
    assert record.latency_mode == "per_request" and record.serve_batch == 1 and record.latency_requests == N
    assert np.isfinite(record.latency_us).all() and (record.latency_us > 0).all()
    # timers start at zero: a replay of microsecond calls sums to well under half a second
    assert 0 < record.predict_s < 0.5 and 0 < record.learn_s < 0.5 and record.latency_us.max() < 0.5e6
    assert record.peak_rss_scope == "strategy" and record.peak_rss_bytes > 0  # Linux: reset per strategy
    assert record.memory_t == [0, N] and record.n_updates == N and record.n_retrains == 0
    assert record.detections is None

    spilled = replay(deploy, {"r": Recorder(3)}, n_classes=K, progress=False, spill_dir=tmp_path, chunk=4,
                     serve_batch=0)["r"]
    np.testing.assert_array_equal(spilled.proba[0:N], answer(np.arange(N)))
    assert spilled.latency_mode == "batched" and spilled.serve_batch == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["0-latency.f64", "0-proba.f64"]


def test_a_mask_of_zeros_and_ones_is_taken_as_bool_and_a_wrong_shape_is_refused():
    deploy, mask = indexed_stream(), MASKS["gaps"]
    strategy = Recorder(1)
    record = replay(deploy, {"r": strategy}, n_classes=K, label_delay=2, labelled=mask.astype(int), progress=False)["r"]
    assert strategy.log == expected_log(deploy.y, 1, 2, mask)
    assert record.label_used.dtype == bool
    np.testing.assert_array_equal(record.label_used, mask & (np.arange(N) < N - 2))
    with pytest.raises(ValueError, match=rf"labelled must have shape \({N},\), got \({N - 1},\)"):
        replay(deploy, {"r": Recorder(1)}, n_classes=K, labelled=mask[1:], progress=False)
    with pytest.raises(ValueError, match="serve_batch=-1 is negative"):
        replay(deploy, {"r": Recorder(1)}, n_classes=K, serve_batch=-1, progress=False)


def test_memory_is_measured_as_deployed_every_so_many_samples_and_at_the_end():
    record = replay(indexed_stream(), {"r": Recorder(3)}, n_classes=K, memory_every=6, progress=False)["r"]
    assert record.memory_t == [0, 6, 12, 18, 23]  # every 6 samples (block ends), and the end
    assert len(record.memory_bytes) == 5 and all(size > 0 for size in record.memory_bytes)


def test_label_mask_draws_exactly_round_fraction_n_from_its_own_generator():
    for n, fraction, count in [(10, 0.3, 3), (10, 0.25, 2), (10, 0.35, 4), (7, 0.01, 1), (5, 1.0, 5)]:
        mask = label_mask(n, fraction, seed=3)
        assert mask.dtype == bool and mask.shape == (n,) and int(mask.sum()) == count, (n, fraction)
        chosen = np.random.default_rng([3, 4242]).choice(n, size=count, replace=False)
        assert np.flatnonzero(mask).tolist() == sorted(chosen.tolist())
    assert not np.array_equal(label_mask(50, 0.5, seed=0), label_mask(50, 0.5, seed=1))
    for fraction in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"fraction={fraction} is outside \(0, 1\]"):
            label_mask(10, fraction, seed=0)


def test_serving_chunks_cover_a_block_without_crossing_it():
    assert serving_chunks(3, 10, 3) == [(3, 6), (6, 9), (9, 10)]
    assert serving_chunks(3, 10, 0) == [(3, 10)]
    assert serving_chunks(3, 10, 7) == [(3, 10)] and serving_chunks(3, 10, 50) == [(3, 10)]
    assert serving_chunks(0, 1, 1) == [(0, 1)]


class Detecting(Recorder):
    """Reports detections and the labels it took as positions in the labels it was handed."""

    _more_tags = {"selects_labels": True}
    detections = [0, 3]
    labels_used = [1, 2]


def test_positions_in_the_learned_labels_become_stream_times():
    deploy, mask = indexed_stream(), MASKS["gaps"]
    record = replay(deploy, {"r": Detecting(1)}, n_classes=K, label_delay=1, labelled=mask, progress=False)["r"]
    times = np.flatnonzero(mask)  # 0, 3, 4, 6, ...
    assert record.detections.tolist() == [times[0], times[3]] == [0, 6]
    np.testing.assert_array_equal(record.label_used, np.isin(np.arange(N), times[[1, 2]]))
    assert record.label_used.dtype == bool


def test_latency_is_measured_on_the_blocks_the_default_seed_draws():
    deploy = indexed_stream()
    record = replay(deploy, {"r": Recorder(2)}, n_classes=K, latency_requests=5, progress=False)["r"]
    timed = np.repeat(measured_blocks(N, 2, 5, seed=0), 2)[:N]  # 3 blocks of 2
    assert int(timed.sum()) == 6 and record.latency_requests == 6
    np.testing.assert_array_equal(np.isnan(record.latency_us), ~timed)
    batched = replay(deploy, {"r": Recorder(2)}, n_classes=K, latency_requests=5, serve_batch=0, progress=False)["r"]
    assert batched.latency_requests == N and np.isfinite(batched.latency_us).all()  # one call per block: all timed


def test_memory_is_measured_every_500_samples_by_default():
    _, deploy = make_data(n_deploy=1001)
    record = replay(deploy, {"r": Recorder(1)}, n_classes=K, progress=False)["r"]
    assert record.memory_t == [0, 500, 1000, 1001]


class Slow(Recorder):
    """Each ``learn`` takes 20 ms: the request served after it waits for it."""

    def learn(self, X, y):
        time.sleep(0.02)


def test_a_request_waits_for_the_learn_before_it_and_timers_add_up():
    deploy = indexed_stream()
    record = replay(deploy, {"r": Slow(1)}, n_classes=K, label_delay=N - 3, progress=False)["r"]
    waits = record.latency_us >= 20_000
    assert waits.tolist() == [False] * (N - 2) + [True, True]  # labels 0 and 1 arrive after predictions 20, 21
    assert 0.04 <= record.learn_s < 0.5
    # no learn: a request's latency is its own predict call's time, and they add up to predict_s
    quiet = replay(deploy, {"r": Recorder(1)}, n_classes=K, label_delay=N, progress=False)["r"]
    assert np.sum(quiet.latency_us) == pytest.approx(quiet.predict_s * 1e6, rel=1e-9) and quiet.learn_s == 0.0


class Wrong(Recorder):
    """Answers one row too many."""

    def predict_proba(self, X):
        return np.full((len(X) + 1, K), 1.0 / K)


def test_sampled_out_blocks_are_served_in_one_call_and_a_wrong_shape_is_named():
    strategy = Recorder(2)
    replay(indexed_stream(), {"r": strategy}, n_classes=K, latency_requests=5, progress=False)
    timed = measured_blocks(N, 2, 5, seed=0)
    calls = [entry[1:] for entry in strategy.log if entry[0] == "predict"]
    expected = [c for i, a in enumerate(range(0, N, 2))
                for c in ([(a, a + 1), (a + 1, min(a + 2, N))][: min(2, N - a)] if timed[i] else [(a, min(a + 2, N))])]
    assert calls == expected

    with pytest.raises(ValueError, match=r"^strategy w failed at t=0: it answered an array of shape \(2, 3\) for 1 "
                                         r"requests, not \(1, 3\)$"):
        replay(indexed_stream(), {"w": Wrong(1)}, n_classes=K, progress=False)
