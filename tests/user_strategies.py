"""Users' strategies for the tests: one that keeps the contract, and one per check that breaks it."""

from __future__ import annotations

import hashlib

import numpy as np

from harness.strategies import BaseStrategy


class Frequencies(BaseStrategy):
    """Every row gets the label frequencies seen so far (add-one smoothed): keeps the contract."""

    def __init__(self, n_classes: int = 3):
        self.counts = np.zeros(n_classes)

    def predict_proba(self, X):
        p = (self.counts + 1) / (self.counts.sum() + len(self.counts))
        return np.tile(p, (len(X), 1))

    def learn(self, X, y):
        self.counts += np.bincount(y, minlength=len(self.counts))


class PeeksAtEarlierLabels(Frequencies):
    """Remembers every labelled row in a dict on the class, shared by all its instances (a mutable
    class attribute): a new instance has learned the stream before predicting it."""

    seen: dict = {}

    def predict_proba(self, X):
        p = super().predict_proba(X)
        for i, row in enumerate(X):
            label = self.seen.get(row.tobytes())
            if label is not None:
                p[i] = np.eye(len(self.counts))[label]
        return p

    def learn(self, X, y):
        super().learn(X, y)
        self.seen.update(zip((row.tobytes() for row in X), y.tolist()))


class SelfTraining(Frequencies):
    """Learns from its own predictions inside ``predict_proba``."""

    def predict_proba(self, X):
        p = super().predict_proba(X)
        self.counts += np.bincount(p.argmax(axis=1), minlength=len(self.counts))
        return p


class Unnormalised(Frequencies):
    """Returns counts, not probabilities."""

    def predict_proba(self, X):
        return np.tile(self.counts + 1, (len(X), 1))


class Unseeded(Frequencies):
    """Starts from a prior drawn without a seed: no two instances agree."""

    def __init__(self, n_classes: int = 3):
        super().__init__(n_classes)
        self.counts = np.random.default_rng().random(n_classes)


class ScalesItsInputs(Frequencies):
    """Standardises the rows it is handed in place."""

    def learn(self, X, y):
        super().learn(X, y)
        X -= X.mean(axis=0)


class FloatSize(Frequencies):
    """Reports its memory as a float."""

    def model_bytes(self):
        return float(self.counts.nbytes)


class WholeBlocksOnly(Frequencies):
    """Assumes every ``learn`` gets the ``step`` labels of the block just predicted."""

    step = 5

    def fit_offline(self, data, pretrained):
        pass

    def learn(self, X, y):
        if len(y) != self.step:
            raise ValueError(f"expected {self.step} labels, got {len(y)}")
        super().learn(X, y)


class ClaimsStatic(Frequencies):
    """Returns a fingerprint, as a static strategy does, but keeps learning."""

    def fingerprint(self):
        return hashlib.sha256(self.counts.tobytes()).hexdigest()


class OldStyleBound(Frequencies):
    """Asks for the post-drift concept with a plain attribute instead of a tag: it would never get it."""

    needs_known_drift = True


class UndeclaredLabels(Frequencies):
    """Lists the labels it took without declaring the tag ``selects_labels``: the run would ignore them."""

    def __init__(self):
        super().__init__()
        self.labels_used = []


class NoLearn(BaseStrategy):
    """Predicts, but never defines ``learn``."""

    def predict_proba(self, X):
        return np.full((len(X), 3), 1 / 3)


class NoPredict(BaseStrategy):
    """Learns, but never defines ``predict_proba``."""

    def learn(self, X, y):
        pass


# each broken strategy and the check that must catch it
BROKEN = {
    PeeksAtEarlierLabels: "prequential",
    SelfTraining: "pure predict_proba",
    Unnormalised: "probabilities",
    Unseeded: "deterministic",
    ScalesItsInputs: "inputs untouched",
    FloatSize: "counters",
    WholeBlocksOnly: "delayed and partial labels",
    ClaimsStatic: "static weights",
    OldStyleBound: "tags",
    UndeclaredLabels: "tags",
    NoLearn: "protocol",
    NoPredict: "protocol",
}


class TurnsToNaN(Frequencies):
    """Keeps the contract until it has learned ``after`` deployment labels, then answers NaN: a
    learner that diverged."""

    def __init__(self, n_classes: int = 3, after: int = 100):
        super().__init__(n_classes)
        self.after = after
        self.learned = 0

    def fit_offline(self, data, pretrained):
        super().fit_offline(data, pretrained)
        self.learned = 0  # the offline labels do not count

    def learn(self, X, y):
        super().learn(X, y)
        self.learned += len(y)

    def predict_proba(self, X):
        p = super().predict_proba(X)
        return p * np.nan if self.learned >= self.after else p


class LosesAColumn(TurnsToNaN):
    """Answers one column too few once it has learned ``after`` labels."""

    def predict_proba(self, X):
        p = Frequencies.predict_proba(self, X)
        return p[:, 1:] if self.learned >= self.after else p
