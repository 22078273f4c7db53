"""Which samples each retraining trains on, and where a drift detector fires, pinned exactly.

The periodic strategy must train on the last ``window`` labels that arrived, every ``every`` labels;
the network it then serves must be the one :func:`fit_network` trains on that slice independently.
The triggered strategy's detections must be where a bare River detector, fed the same 0/1 error
sequence by hand, fires; after a detection it gathers the next ``min_samples`` labels and restarts
the detector.
"""

from __future__ import annotations

import numpy as np
import pytest
from river import drift

from harness.offline.models import predict_proba
from harness.pipeline.replay import replay
from harness.strategies.netfit import chronological_split, fit_network
from harness.strategies.retrain import RetrainPeriodic, RetrainTriggered
from harness.streams.base import DeployData
from tests.helpers import K, make_data, pretrained, with_labels

DELAY = 3


class RecordingPeriodic(RetrainPeriodic):
    """Logs the ``(X, y)`` and seed of every retraining, then retrains as usual."""

    def fit_offline(self, data, pretrained):
        super().fit_offline(data, pretrained)
        self.trained_on, self.seeds = [], []

    def _retrain(self, X, y):
        self.trained_on.append((X.copy(), y.copy()))
        self.seeds.append(self._retrain_seed())
        return super()._retrain(X, y)


class Shifting(RetrainTriggered):
    """Logs what a retraining would train on; instead of training, the network it serves after ``r``
    retrainings answers the pre-deployment network's class shifted by ``r`` (one-hot), so that the
    error sequence its detector sees is known in advance and changes at each retraining."""

    def fit_offline(self, data, pretrained):
        super().fit_offline(data, pretrained)
        self.trained_on = []

    def predict_proba(self, X):
        shifted = (served_class(X) + self.n_retrains) % K
        return np.eye(K)[shifted]

    def _retrain(self, X, y):
        self.trained_on.append((X.copy(), y.copy()))
        self.n_retrains += 1
        return slice(0, 0)


def served_class(X: np.ndarray) -> np.ndarray:
    """The pre-deployment network's predicted class."""
    return predict_proba(pretrained().module, X).numpy().argmax(axis=1)


def arrived_labels(n: int, mask: np.ndarray, delay: int) -> np.ndarray:
    """The stream times of the labels a strategy learns from, in order (they arrive in time order)."""
    return np.flatnonzero(mask & (np.arange(n) + delay < n))


def hand_mask(n: int) -> np.ndarray:
    """Every label but those of every seventh sample and of a run of five."""
    return (np.arange(n) % 7 != 3) & ~np.isin(np.arange(n), range(50, 55))


def replayed(strategy, deploy: DeployData, mask: np.ndarray):
    offline, _ = make_data()
    strategy.fit_offline(offline, pretrained())
    return replay(deploy, {"s": strategy}, n_classes=K, label_delay=DELAY, labelled=mask, progress=False)["s"]


@pytest.mark.slow
def test_periodic_retrains_on_exactly_the_last_window_labels():
    _, deploy = make_data()
    n, mask = len(deploy), hand_mask(len(deploy))
    strategy = RecordingPeriodic(every=40, window=60, step=7, max_epochs=2, patience=1, seed=3)
    record = replayed(strategy, deploy, mask)

    arrived = arrived_labels(n, mask, DELAY)
    counts = list(range(40, len(arrived) + 1, 40))  # a retraining after every 40th label
    assert len(counts) == 3 and record.n_retrains == 3
    assert len(strategy.trained_on) == len(counts)
    assert strategy.seeds == [3100, 3101, 3102]  # one seed per retraining, fixed by the strategy's seed
    for (X, y), count in zip(strategy.trained_on, counts):
        expected = arrived[:count][-60:]  # fewer than the window before 60 labels have arrived
        np.testing.assert_array_equal(X, deploy.X[expected])
        np.testing.assert_array_equal(y, deploy.y[expected])

    # the network served at the end is the one trained independently on the last slice, same seed
    X, y = deploy.X[arrived[:counts[-1]][-60:]], deploy.y[arrived[:counts[-1]][-60:]]
    train, val = chronological_split(len(y), 0.25)
    alone, _ = fit_network(X[train], y[train], X[val], y[val], pretrained=pretrained(), max_epochs=2, patience=1,
                           calibrate=True, seed=strategy.seeds[-1])
    np.testing.assert_array_equal(predict_proba(strategy.module, deploy.X).numpy(),
                                  predict_proba(alone, deploy.X).numpy())


def segmented_labels(deploy: DeployData, wrong_from: tuple[int, ...], length: int) -> np.ndarray:
    """Labels equal to the pre-deployment network's predictions, except in the segments
    ``[w, w + length)`` where they are the next class (a sure error)."""
    wrong = np.zeros(len(deploy), dtype=bool)
    for w in wrong_from:
        wrong[w : w + length] = True
    predicted = served_class(deploy.X)
    return np.where(wrong, (predicted + 1) % K, predicted)


def bare_detections(errors, fresh, as_input, min_samples: int, fed: list | None = None):
    """A bare River loop over the labels in arrival order; ``errors(r)`` is the 0/1 error sequence of
    the network served after ``r`` retrainings. On a detection, note its position, gather the next
    ``min_samples`` labels (the detector is paused), count a retraining and start a fresh detector.
    Returns the positions and the gathered ranges; appends every value fed to ``fed``."""
    detector, positions, gathered, i = fresh(), [], [], 0
    fed = [] if fed is None else fed
    n = len(errors(0))
    while i < n:
        fed.append(as_input(errors(len(gathered))[i]))
        detector.update(fed[-1])
        if detector.drift_detected:
            positions.append(i)
            if i + min_samples >= n:  # the gathering never completes
                break
            gathered.append(range(i + 1, i + 1 + min_samples))
            i += 1 + min_samples
            detector = fresh()
        else:
            i += 1
    return positions, gathered


def logging(detector_class) -> tuple[type, list]:
    """A subclass of a River detector whose instances (and clones) append every value they are fed
    to one list."""
    fed = []

    class Logging(detector_class):
        def update(self, x):
            fed.append(x)
            return super().update(x)

    return Logging, fed


DETECTORS = {
    "DDM": (drift.binary.DDM, bool),
    "ADWIN": (drift.ADWIN, float),
}


@pytest.mark.slow
@pytest.mark.parametrize("step", [1, 60])
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_triggered_detections_are_where_a_bare_river_detector_fires(name, step):
    """Step 60: a detection, its gathering and the retraining happen inside one ``learn`` call; the
    labels after it in that call are scored by the new network."""
    fresh, as_input = DETECTORS[name]
    logged, fed = logging(fresh)
    _, deploy = make_data(n_deploy=420)
    deploy = with_labels(deploy, segmented_labels(deploy, (100, 300), 80))
    n, mask = len(deploy), hand_mask(len(deploy))
    strategy = Shifting(detector=logged(), min_samples=8, step=step)
    record = replayed(strategy, deploy, mask)

    arrived = arrived_labels(n, mask, DELAY)
    predicted, y = served_class(deploy.X)[arrived], deploy.y[arrived]
    bare_fed = []
    positions, gathered = bare_detections(lambda r: (predicted + r) % K != y, fresh, as_input, 8, bare_fed)
    assert len(positions) >= 2  # the test needs a restarted detector to fire again
    assert fed == bare_fed  # each label's error is the one of the network serving when it arrives
    assert strategy.detections == positions
    np.testing.assert_array_equal(record.detections, arrived[positions])  # stream times
    assert [len(y) for _, y in strategy.trained_on] == [8] * len(gathered)
    for (X, y), span in zip(strategy.trained_on, gathered):
        np.testing.assert_array_equal(X, deploy.X[arrived[list(span)]])
        np.testing.assert_array_equal(y, deploy.y[arrived[list(span)]])


def test_the_first_detection_of_a_real_retraining_strategy_matches_the_bare_detector():
    """Before its first retraining the strategy serves the pre-deployment network, so its first
    detection is the bare DDM's on that network's errors."""
    offline, deploy = make_data()
    n, mask = len(deploy), hand_mask(len(deploy))
    strategy = RetrainTriggered(detector=drift.binary.DDM(), min_samples=30, step=32, max_epochs=2, patience=1)
    record = replayed(strategy, deploy, mask)
    arrived = arrived_labels(n, mask, DELAY)
    errors = served_class(deploy.X)[arrived] != deploy.y[arrived]
    positions, _ = bare_detections(lambda r: errors, drift.binary.DDM, bool, 30)
    assert positions and strategy.detections[0] == positions[0]
    assert record.detections[0] == arrived[positions[0]]
    assert record.n_retrains >= 1
