"""Which samples each retraining trains on, and where a drift detector fires, pinned exactly.

The periodic strategy must train on the last ``window`` labels that arrived, every ``every`` labels;
the network it then serves must be the one :func:`fit_network` trains on that slice independently.
The triggered strategy's detections must be where a bare River detector, fed the same 0/1 error
sequence by hand, fires; after a detection it gathers the next ``min_samples`` labels and restarts
the detector.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch
from river import drift

from harness.offline.freeze import Pretrained
from harness.offline.models import Calibrated, Standardize, build_network, freeze, predict_proba, weights_sha256
from harness.pipeline.replay import replay
from harness.strategies.netfit import chronological_split, fit_network
from harness.strategies.retrain import RetrainPeriodic, RetrainTriggered
from harness.streams.base import DeployData
from tests.helpers import K, make_data, with_labels

DELAY = 3
SETTINGS = {"lr": 0.01, "batch_size": 32, "weight_decay": 0.0, "width": 16}


@cache
def pretrained() -> Pretrained:
    """An untrained seeded MLP as the pre-deployment network: which samples a retraining takes and
    where a detector fires do not depend on how good it is, and it takes milliseconds, not the
    seconds of a trained one (the mutation run builds it again for every mutant)."""
    offline, _ = make_data()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = build_network("mlp", n_features=offline.X_train.shape[1], n_classes=K, width=SETTINGS["width"],
                            depth=1, scaler=Standardize.fit(offline.X_train))
    module = freeze(Calibrated(net, 1.0))
    return Pretrained(module, dict(SETTINGS), 1, "mlp", 1.0, weights_sha256(module), [])


class RecordingPeriodic(RetrainPeriodic):
    """Logs the ``(X, y)``, seed and returned validation slice of every retraining, which retrains
    as usual."""

    def fit_offline(self, data, pretrained):
        super().fit_offline(data, pretrained)
        self.trained_on, self.seeds, self.validated = [], [], []

    def _retrain(self, X, y):
        self.trained_on.append((X.copy(), y.copy()))
        self.seeds.append(self._retrain_seed())
        self.validated.append(super()._retrain(X, y))
        return self.validated[-1]


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
    # the newest quarter validates (what retrain_on_alarm takes as its new reference): 40 labels, then 60
    assert strategy.validated == [slice(30, 40), slice(45, 60), slice(45, 60)]
    for (X, y), count in zip(strategy.trained_on, counts):
        expected = arrived[:count][-60:]  # fewer than the window before 60 labels have arrived
        assert (X.dtype, y.dtype) == (deploy.X.dtype, deploy.y.dtype)  # the window keeps them as they arrived
        np.testing.assert_array_equal(X, deploy.X[expected])
        np.testing.assert_array_equal(y, deploy.y[expected])

    # each retraining is the network trained independently on its slice with its seed: the one served
    # at the end is the last, and the gradient steps counted are theirs added up
    steps = []
    for (X, y), seed in zip(strategy.trained_on, strategy.seeds):
        train, val = chronological_split(len(y), 0.25)
        alone, taken = fit_network(X[train], y[train], X[val], y[val], pretrained=pretrained(), max_epochs=2,
                                   patience=1, calibrate=True, seed=seed)
        steps.append(taken)
    np.testing.assert_array_equal(predict_proba(strategy.module, deploy.X).numpy(),
                                  predict_proba(alone, deploy.X).numpy())
    assert record.n_updates == sum(steps) > 0


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


# name -> River detector class, its parameters, the value it is fed for an error
DETECTORS = {
    "DDM": (drift.binary.DDM, {}, bool),
    "ADWIN": (drift.ADWIN, {}, float),
    "FHDDM": (drift.binary.FHDDM, {"sliding_window_size": 30}, lambda error: not error),  # fed 1 = correct
}


@pytest.mark.slow
@pytest.mark.parametrize("step", [1, 60])
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_triggered_detections_are_where_a_bare_river_detector_fires(name, step):
    """Step 60: a detection, its gathering and the retraining happen inside one ``learn`` call; the
    labels after it in that call are scored by the new network."""
    detector_class, params, as_input = DETECTORS[name]
    logged, fed = logging(detector_class)
    _, deploy = make_data(n_deploy=420)
    deploy = with_labels(deploy, segmented_labels(deploy, (100, 300), 80))
    n, mask = len(deploy), hand_mask(len(deploy))
    strategy = Shifting(detector=logged(**params), min_samples=8, step=step)
    record = replayed(strategy, deploy, mask)

    arrived = arrived_labels(n, mask, DELAY)
    predicted, y = served_class(deploy.X)[arrived], deploy.y[arrived]
    bare_fed = []
    positions, gathered = bare_detections(lambda r: (predicted + r) % K != y, lambda: detector_class(**params),
                                          as_input, 8, bare_fed)
    assert len(positions) >= 2  # the test needs a restarted detector to fire again
    assert fed == bare_fed  # each label's error is the one of the network serving when it arrives
    assert [type(value) for value in fed] == [type(value) for value in bare_fed]  # bool for a binary detector
    assert strategy.detections == positions
    np.testing.assert_array_equal(record.detections, arrived[positions])  # stream times
    assert [len(y) for _, y in strategy.trained_on] == [8] * len(gathered)
    for (X, y), span in zip(strategy.trained_on, gathered):
        np.testing.assert_array_equal(X, deploy.X[arrived[list(span)]])
        np.testing.assert_array_equal(y, deploy.y[arrived[list(span)]])
    # A retraining serves from the block after the one whose learning step brought its last label
    # (label j is learned after the block holding j + DELAY is predicted), not one label later.
    retrained = np.zeros(n, dtype=int)
    for span in gathered:
        retrained[((arrived[span[-1]] + DELAY) // step + 1) * step :] += 1
    np.testing.assert_array_equal(record.proba.argmax(axis=1), (served_class(deploy.X) + retrained) % K)


def test_the_first_detection_of_a_real_retraining_strategy_matches_the_bare_detector():
    """Before its first retraining the strategy serves the pre-deployment network, so its first
    detection is the bare DDM's on that network's errors (sure errors from sample 60 on)."""
    _, deploy = make_data()
    deploy = with_labels(deploy, segmented_labels(deploy, (60,), len(deploy)))
    n, mask = len(deploy), hand_mask(len(deploy))
    strategy = RetrainTriggered(detector=drift.binary.DDM(), min_samples=30, step=32, max_epochs=2, patience=1)
    record = replayed(strategy, deploy, mask)
    arrived = arrived_labels(n, mask, DELAY)
    errors = served_class(deploy.X)[arrived] != deploy.y[arrived]
    positions, _ = bare_detections(lambda r: errors, drift.binary.DDM, bool, 30)
    assert positions and strategy.detections[0] == positions[0]
    assert record.detections[0] == arrived[positions[0]]
    assert record.n_retrains >= 1


def test_a_detector_that_takes_a_seed_and_has_none_gets_the_strategys_seed():
    """KSWIN draws its reference sample at random: on labels with a random 30% of sure errors, the
    strategy's detections are a bare KSWIN's with the strategy's seed, on every restart; a detector
    given its own seed keeps it."""
    _, deploy = make_data(n_deploy=420)
    predicted = served_class(deploy.X)
    wrong = np.random.default_rng([0, 30]).random(len(deploy)) < 0.3
    deploy = with_labels(deploy, np.where(wrong, (predicted + 1) % K, predicted))
    n, mask = len(deploy), hand_mask(len(deploy))
    arrived = arrived_labels(n, mask, DELAY)

    def errors(r):
        return (predicted[arrived] + r) % K != deploy.y[arrived]

    def kswin(seed):
        return drift.KSWIN(alpha=0.2, window_size=40, stat_size=10, seed=seed)

    found = {}
    for given, used in ((None, 11), (5, 5)):
        strategy = Shifting(detector=kswin(given), min_samples=8, seed=11)
        replayed(strategy, deploy, mask)
        found[used], _ = bare_detections(errors, lambda seed=used: kswin(seed), float, 8)
        assert len(found[used]) >= 2 and strategy.detections == found[used]
    assert found[11] != found[5]  # the seed decides where KSWIN fires here


def test_without_a_detector_the_strategy_watches_with_a_default_adwin():
    _, deploy = make_data(n_deploy=420)
    deploy = with_labels(deploy, segmented_labels(deploy, (100, 300), 80))
    n, mask = len(deploy), hand_mask(len(deploy))
    strategy = Shifting(min_samples=8)
    replayed(strategy, deploy, mask)
    arrived = arrived_labels(n, mask, DELAY)
    predicted, y = served_class(deploy.X)[arrived], deploy.y[arrived]
    positions, _ = bare_detections(lambda r: (predicted + r) % K != y, drift.ADWIN, float, 8)
    assert len(positions) >= 2 and strategy.detections == positions
