"""Per-request latency, the serving batch, and the peak memory of each strategy's replay."""

import sys
import time

import numpy as np
import pytest

from harness.pipeline.replay import replay
from tests import preloaded
from tests.helpers import K, build, make_data, run_strategy

PREDICT_S = 0.002
LEARN_S = 0.1  # far above any scheduling delay of a loaded machine


class Timed:
    """A real strategy whose calls take a known time: each predict call sleeps ``PREDICT_S``
    whatever its size, each learn call ``LEARN_S``; it records the size of every predict call."""

    n_updates = n_retrains = 0
    detections = None

    def __init__(self, step: int):
        self.step = step
        self.calls: list[int] = []

    def fit_offline(self, data, pretrained):
        pass

    def prepare(self, X):
        return X

    def predict_proba(self, X):
        self.calls.append(len(X))
        time.sleep(PREDICT_S)
        return np.full((len(X), K), 1.0 / K)

    def learn(self, X, y):
        time.sleep(LEARN_S)

    def model_bytes(self):
        return 0

    def fingerprint(self):
        return None


class Allocating(Timed):
    """Touches ``size`` bytes of fresh memory in its first learn call, then frees them."""

    def __init__(self, step: int, size: int):
        super().__init__(step)
        self.size = size

    def predict_proba(self, X):
        return np.full((len(X), K), 1.0 / K)

    def learn(self, X, y):
        if self.size:
            np.ones(self.size, dtype=np.uint8).sum()
            self.size = 0


def test_a_request_waits_for_its_whole_call_and_for_the_learn_before_it():
    _, deploy = make_data(n_deploy=12)
    for serve_batch, calls in ((1, [1] * 12), (2, [2] * 6), (0, [4] * 3)):
        strategy = Timed(step=4)
        record = replay(deploy, {"timed": strategy}, n_classes=K, serve_batch=serve_batch, progress=False)["timed"]
        assert strategy.calls == calls
        latency_s = record.latency_us / 1e6
        assert (latency_s >= PREDICT_S).all(), "a request's latency is its call's time, not a share of it"
        served_after_learn = np.zeros(12, bool)
        served_after_learn[4 : 4 + (serve_batch or 4)] = served_after_learn[8 : 8 + (serve_batch or 4)] = True
        assert (latency_s[served_after_learn] >= PREDICT_S + LEARN_S).all()
        assert (latency_s[~served_after_learn] < LEARN_S).all()
        assert record.latency_mode == ("per_request" if serve_batch else "batched")
        assert record.serve_batch == (serve_batch or 4)


@pytest.mark.parametrize("name", ["frozen", "finetune", "river_logreg", "retrain_triggered"])
def test_predictions_do_not_depend_on_the_serving_batch(name):
    offline, deploy = make_data()
    records = {b: run_strategy(build(name), offline, deploy, serve_batch=b) for b in (1, 3, 0)}
    for serve_batch in (3, 0):
        np.testing.assert_allclose(records[serve_batch].proba, records[1].proba, rtol=1e-5, atol=1e-6)
        assert records[serve_batch].n_updates == records[1].n_updates


def test_peak_memory_is_measured_per_strategy():
    """The strategy that touches 256 MB peaks that much above the one replayed after it: the
    high-water mark is reset before each strategy (Linux), so the second does not inherit it."""
    size = 256 * 2**20
    _, deploy = make_data(n_deploy=20)
    strategies = {"big": Allocating(step=4, size=size), "small": Allocating(step=4, size=0)}
    records = replay(deploy, strategies, n_classes=K, progress=False)
    if records["small"].peak_rss_scope != "strategy":
        pytest.skip("this system cannot reset the peak resident memory of a process")
    assert records["big"].peak_rss_bytes - records["small"].peak_rss_bytes > 0.8 * size


@pytest.mark.slow
def test_a_negative_serve_batch_fails_before_any_compute(tmp_path):
    result = preloaded.run(
        [sys.executable, "-m", "harness.run", "replay.serve_batch=-1", f"hydra.run.dir={tmp_path}/run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: replay.serve_batch=-1 must be >= 0" in result.stderr
    assert not (tmp_path / "run").exists()


def test_latency_is_measured_on_a_sample_of_requests_on_a_long_stream():
    """``latency_requests=8`` of 40: two step blocks of 4 are served one request per call and timed,
    the other eight blocks in one call each with NaN latency; the cost table's percentiles are of
    the timed requests only. At ``latency_requests >= n`` every request is timed, as before."""
    from harness.pipeline.summary import costs_table

    _, deploy = make_data(n_deploy=40)
    strategy = Timed(step=4)
    record = replay(deploy, {"timed": strategy}, n_classes=K, serve_batch=1, latency_requests=8, progress=False)["timed"]
    assert sorted(strategy.calls) == [1] * 8 + [4] * 8
    timed = ~np.isnan(record.latency_us)
    assert timed.sum() == 8 == record.latency_requests
    assert [timed[b : b + 4].all() or not timed[b : b + 4].any() for b in range(0, 40, 4)] == [True] * 10
    assert (record.latency_us[timed] >= PREDICT_S * 1e6).all()
    costs = costs_table({"timed": record}).iloc[0]
    assert costs.latency_requests == 8 and costs.latency_p50_us >= PREDICT_S * 1e6
    again = Timed(step=4)
    whole = replay(deploy, {"timed": again}, n_classes=K, serve_batch=1, latency_requests=40, progress=False)["timed"]
    assert again.calls == [1] * 40 and whole.latency_requests == 40 and not np.isnan(whole.latency_us).any()
