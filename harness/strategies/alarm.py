"""Spending labels only when a label-free detector says the inputs have changed.

``RetrainOnAlarm`` serves the pre-deployment network and watches the inputs it serves, window by
window, with one of the label-free shift tests of :mod:`harness.scores.shift`. It ignores every
label until a test fires; then it takes the next ``labels_per_alarm`` labels that arrive, retrains a
fresh network on them (hyper-parameters chosen before deployment, see
:mod:`harness.strategies.netfit`) and makes those samples its new reference. Only the labels it took
count as used (``labels_used``), so its label budget can be set against ``retrain_triggered``, whose
detector reads every label's error, and ``finetune``.
"""

from __future__ import annotations

import numpy as np

from harness.monitor.watch import DETECTORS
from harness.offline.freeze import Pretrained
from harness.offline.models import predict_proba
from harness.offline.outputs import model_outputs
from harness.offline.text_model import TextNet
from harness.scores import shift
from harness.strategies.retrain import Retraining
from harness.streams.base import OfflineData
from harness.streams.tokens import bag_of_words, offline_vocabulary

_PERMUTE, _RETRAIN = 1, 2  # purposes of the seeded generators


class RetrainOnAlarm(Retraining):
    """Label-free detector on the served inputs; on an alarm, ``labels_per_alarm`` labels, then retrain.

    ``detector`` is one of :data:`DETECTORS`, tested on every ``window`` served inputs at level
    ``alpha`` against the reference (first the offline validation split and the frozen model's
    outputs on it; after a retraining, the samples it was trained on and the new network's outputs
    on their validation part). While labels are gathered, no window is tested. Served by a text model
    (``model=text``: the inputs are token ids), ``ks_inputs`` and ``mmd_inputs`` read bags of words over
    the reference's vocabulary (:mod:`harness.streams.tokens`), as the run's monitor does.
    """

    _more_tags = {"selects_labels": True}  # it lists the labels it took in labels_used
    detections = None

    def __init__(
        self,
        *,
        detector: str = "ks_inputs",
        window: int = 400,
        alpha: float = 0.01,
        labels_per_alarm: int = 500,
        n_permutations: int = 100,
        step: int = 32,
        val_fraction: float = 0.25,
        max_epochs: int = 60,
        patience: int = 5,
        calibrate: bool = True,
        seed: int = 0,
    ):
        if detector not in DETECTORS:
            raise ValueError(f"detector={detector!r} is not one of {list(DETECTORS)}")
        if window < 2 or labels_per_alarm < 2 or not 0.0 < alpha < 1.0:
            raise ValueError(
                f"window={window} and labels_per_alarm={labels_per_alarm} must be >= 2, alpha={alpha} in (0, 1)"
            )
        super().__init__(step=step, val_fraction=val_fraction, max_epochs=max_epochs, patience=patience,
                         calibrate=calibrate, seed=seed)
        self.detector = detector
        self.window = window
        self.alpha = alpha
        self.labels_per_alarm = labels_per_alarm
        self.n_permutations = n_permutations

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        super().fit_offline(data, pretrained)
        self._set_reference(data.X_val, data.X_val, vocabulary_of=(data.X_train, data.X_val))
        self._pending: list[np.ndarray] = []  # served inputs of the window being filled
        self._wanted = 0  # labels still to take for the current alarm
        self._gathered: list[tuple[np.ndarray, np.ndarray]] = []
        self._seen = 0  # labels handed to learn() so far
        self._served = 0
        self._tests = 0
        self.alarms: list[int] = []  # sample index (served order) of each alarm's last window sample
        self.labels_used: list[int] = []  # positions, in the sequence of labels handed over, of those taken

    def _set_reference(self, X: np.ndarray, X_outputs: np.ndarray, *, vocabulary_of: tuple = ()) -> None:
        tokens = isinstance(self.module.net, TextNet)  # its inputs are token ids: names, not numbers
        self._vocabulary = offline_vocabulary(*(vocabulary_of or (X,))) if tokens else None
        self._ref_X = self._inputs(X)
        self._ref_proba = model_outputs(self.module, X_outputs).proba

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """What the input detectors read: the rows, or their bags of words over the reference's vocabulary."""
        return X if self._vocabulary is None else bag_of_words(X, self._vocabulary)

    def _alarm(self, X: np.ndarray) -> bool:
        proba = predict_proba(self.module, X).numpy().astype(np.float64)
        if self.detector == "ks_inputs":
            _, p_value = shift.ks_inputs(self._ref_X, self._inputs(X))
        elif self.detector == "mmd_inputs":
            rng = np.random.default_rng([self.seed, _PERMUTE, self._tests])
            _, p_value = shift.mmd_permutation(self._ref_X, self._inputs(X), n_permutations=self.n_permutations,
                                               rng=rng)
        elif self.detector == "bbsd":
            _, p_value = shift.bbsd(self._ref_proba, proba)
        else:
            _, p_value = shift.confidence_test(self._ref_proba.max(axis=1), proba.max(axis=1))
        self._tests += 1
        return p_value < self.alpha

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        answer = super().predict_proba(X)
        self._served += len(X)
        if self._wanted == 0:
            self._pending.append(X)
            if sum(len(part) for part in self._pending) >= self.window:
                if self._alarm(np.concatenate(self._pending)):
                    self.alarms.append(self._served - 1)
                    self._wanted = self.labels_per_alarm
                self._pending = []
        return answer

    def learn(self, X: np.ndarray, y: np.ndarray) -> None:
        if self._wanted > 0:
            take = min(len(y), self._wanted)
            self._gathered.append((X[:take], y[:take]))
            self.labels_used.extend(range(self._seen, self._seen + take))
            self._wanted -= take
            if self._wanted == 0:
                self._retrain(np.concatenate([a for a, _ in self._gathered]),
                              np.concatenate([b for _, b in self._gathered]))
                self._gathered = []
        self._seen += len(y)

    def _retrain_seed(self) -> int:
        return int(np.random.SeedSequence([self.seed, _RETRAIN, self.n_retrains]).generate_state(1)[0])

    def _retrain(self, X: np.ndarray, y: np.ndarray) -> slice:
        val = super()._retrain(X, y)
        self._set_reference(X, X[val])
        return val

    def _buffer_bytes(self) -> int:
        buffers = sum(a.nbytes + b.nbytes for a, b in self._gathered) + sum(p.nbytes for p in self._pending)
        return self._ref_X.nbytes + self._ref_proba.nbytes + buffers
