"""Upper bounds, not deployable strategies: what a model of the frozen model's family could reach
had it known the drift.

Both need the run to hand them the stream's post-drift concept through
``OfflineData.known_drift`` (the tag ``needs_known_drift``; ``harness.run`` does, and refuses a
stream that cannot generate its post-drift concept before any compute).

- :class:`Oracle`: the network the pre-deployment search selected (same architecture and
  hyper-parameters), trained the same way, early-stopped and calibrated on offline-size data of
  the post-drift concept: the ceiling after the drift (before it, usually worse than ``frozen``).
  A researcher's own model (``model=pretrained``) is trained there from a copy of its weights.
- :class:`OracleSwitch`: the frozen model before the true onset, the oracle from it on: a
  perfect, instant drift detector with free retraining. ``regret`` is measured against it.
"""

from __future__ import annotations

import hashlib

import numpy as np

from harness.offline.freeze import Pretrained
from harness.offline.models import predict_proba, tensor_bytes, weights_sha256
from harness.strategies.base import BaseStrategy
from harness.strategies.frozen import Frozen
from harness.strategies.netfit import fit_network_once
from harness.streams.base import KnownDrift, OfflineData
from harness.validation import validate


def known_drift(data: OfflineData, name: str) -> KnownDrift:
    """``data.known_drift``, or a ValueError that says who must provide it."""
    if data.known_drift is None:
        raise ValueError(f"{name} needs the stream's post-drift concept (OfflineData.known_drift); "
                         "harness.run provides it for streams that can generate it")
    return data.known_drift


class Oracle(Frozen):
    """Serves, as :class:`Frozen` does, a network trained offline on the post-drift concept;
    ``learn`` ignores every label."""

    # a user's model: trained on the post-drift concept from its weights
    _more_tags = {"needs_known_drift": True, "needs_from_model": "weights"}

    def __init__(self, *, step: int = 256, max_epochs: int = 60, patience: int = 5, calibrate: bool = True,
                 seed: int = 0):
        self.step = validate.integer("step", step, 1)
        self.max_epochs = validate.integer("max_epochs", max_epochs, 1)
        self.patience = validate.integer("patience", patience, 1)
        self.calibrate = validate.boolean("calibrate", calibrate)
        self.seed = validate.seed("seed", seed)
        self.module = None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        post = known_drift(data, "oracle").post
        seed = int(np.random.SeedSequence([self.seed, 17]).generate_state(1)[0])
        self.module, _ = fit_network_once(
            post.X_train, post.y_train, post.X_val, post.y_val, pretrained=pretrained,
            max_epochs=self.max_epochs, patience=self.patience, calibrate=self.calibrate, seed=seed,
        )


class Timed:
    """Deployment rows with their times: ``X`` float32 ``(n, d)`` and ``t`` int ``(n,)``; indexing
    (a slice or an index array, as the replay loop does) keeps the two together."""

    def __init__(self, X: np.ndarray, t: np.ndarray):
        self.X, self.t = X, t

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, index) -> Timed:
        return Timed(self.X[index], self.t[index])


class OracleSwitch(BaseStrategy):
    """The frozen model on deployment times ``t < onset``, the :class:`Oracle` from ``onset`` on.

    ``prepare`` pairs the deployment rows with their times (the replay hands it the whole stream in
    time order, ``t = 0..n-1``), so each row is served by the model of its time. Rows given without
    times (a plain array, not from ``prepare``) are served by the frozen model.
    """

    count_updates = False  # it never updates
    _more_tags = {"family": "static", "needs_known_drift": True, "needs_from_model": "weights"}

    def __init__(self, *, step: int = 256, max_epochs: int = 60, patience: int = 5, calibrate: bool = True,
                 seed: int = 0):
        self.step = validate.integer("step", step, 1)
        self.oracle = Oracle(step=step, max_epochs=max_epochs, patience=patience, calibrate=calibrate, seed=seed)
        self.frozen = None
        self.onset = 0

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        self.onset = known_drift(data, "oracle_switch").onset
        self.frozen = pretrained.module
        self.oracle.fit_offline(data, pretrained)

    def prepare(self, X: np.ndarray) -> Timed:
        return Timed(X, np.arange(len(X)))

    def predict_proba(self, X: Timed | np.ndarray) -> np.ndarray:
        rows, t = (X.X, X.t) if isinstance(X, Timed) else (X, np.full(len(X), -1))
        after = t >= self.onset
        if not after.any():
            return predict_proba(self.frozen, rows).numpy().astype(np.float64)
        late = self.oracle.predict_proba(rows)
        if after.all():
            return late
        early = predict_proba(self.frozen, rows).numpy().astype(np.float64)
        return np.where(after[:, None], late, early)

    def learn(self, X, y: np.ndarray) -> None:
        pass

    def model_bytes(self) -> int:
        return tensor_bytes(self.frozen) + self.oracle.model_bytes()

    def fingerprint(self) -> str:
        """Of both networks it switches between (neither ever changes)."""
        both = f"{weights_sha256(self.frozen)}{self.oracle.fingerprint()}".encode()
        return hashlib.sha256(both).hexdigest()
