"""River's benchmark generators as streams of this harness, their own concept changes mapped onto
``drift.pattern``, ``drift.onset`` and ``drift.width``.

Each generator is drawn once per run (``n_offline + n_deploy`` samples per concept, cached), its
dicts turned into float arrays in the key order of its first sample, its labels into ints, and
(by default) standardised with the offline mean and standard deviation, an affine map that leaves
every drift as it is. The offline data and the deployment stream are one River sequence: offline
first, deployment after.

Two ways River changes a concept:

- switching concepts (SEA ``variant``; Agrawal, STAGGER, Sine, Mixed ``classification_function``;
  LED's ``n_drift_features``): the old and the new concept are two generators with the same seed
  (same inputs where River draws them alike), and a deployment sample comes from the new one with
  chance ``severity * amount``: severity is the share of the drifted stream on the new concept.
- moving concepts (Hyperplane's weights through ``mag_change``, RandomRBFDrift's centroids through
  ``change_speed``): the new concept is the old one moved by ``severity * drift_magnitude`` in one
  step at the start of deployment; an ``incremental`` drift instead moves a single generator a
  little at each sample, ``progress`` of the way at each time. Hyperplane's random reversals of the
  drift direction (``sigma``) are switched off so the move is exactly the one asked.

Only ``kind=concept`` (and ``none``) is supported: the change is River's own. LED's and RBF's
changes also move ``P(x)`` (LED swaps relevant and irrelevant attributes; RBF moves its centroids).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from harness.streams.base import DeployData, DriftSchedule, OfflineData, deploy_data, split_offline
from harness.streams.stream import Stream
from harness.validation import validate


class RiverStream(Stream):
    """Base of the River-backed families; a subclass stores its parameters, then calls this
    constructor (which draws a first sample to learn the columns), and says how to make its two
    concepts in :meth:`generator`."""

    kinds = ("none", "concept")
    patterns = ("none", "sudden", "gradual", "recurring")
    _more_tags = {"post_drift": True}
    fixed = {"n_classes": 2}  # fixed by the generator (read by strategies as ${stream.n_classes})
    moving: str | None = None  # the generator attribute an incremental drift moves, if any
    moves_after_sample = False  # Hyperplane moves after yielding, RandomRBFDrift before
    drift_magnitude: float  # how far a moving family's concept moves at severity 1

    def __init__(self, schedule: DriftSchedule, *, standardize: bool = True, **common):
        super().__init__(schedule, **common)
        validate.boolean("stream.standardize", standardize)
        self.standardize = standardize
        first, _ = next(iter(self.generator(new=False)))
        self.columns = [str(key) for key in first]
        self.n_features = len(self.columns)

    def generator(self, *, new: bool):
        """A fresh River generator of the old (offline) or the new concept."""
        raise NotImplementedError

    def _draw(self, gen, n: int, steps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` samples as ``(n, d)`` floats and ``(n,)`` ints; ``steps[i]`` sets ``self.moving`` before
        sample ``i`` is drawn (a step that takes effect from sample ``i + 1`` when the generator moves
        after yielding)."""
        x = np.empty((n, self.n_features))
        y = np.empty(n, dtype=np.int64)
        iterator = iter(gen)
        for i in range(n):
            if steps is not None:
                setattr(gen, self.moving, float(steps[i]))
            row, label = next(iterator)
            x[i] = list(row.values())
            y[i] = int(label)
        return x, y

    def _steps(self, amount: np.ndarray) -> np.ndarray:
        """Per-draw moves that bring the concept to ``amount * severity * drift_magnitude`` at each
        deployment time, for the whole sequence (offline draws never move)."""
        target = np.concatenate([np.zeros(self.n_offline), amount]) * self.schedule.severity
        steps = np.diff(target, prepend=0.0) * self.drift_magnitude
        return np.roll(steps, -1) if self.moves_after_sample else steps

    @cached_property
    def _data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The whole sequence ``(x, y)`` and the per-deployment-sample new-concept amount."""
        s, n = self.schedule, self.n_offline + self.n_deploy
        rng = self.rng(1)
        amount = s.amount(np.arange(self.n_deploy), rng)
        drifts = self.drifts and amount.any()
        if drifts and s.pattern == "incremental":
            x, y = self._draw(self.generator(new=False), n, self._steps(amount))
            return x, y, amount
        x, y = self._draw(self.generator(new=False), n, self._steps(np.zeros(self.n_deploy)) if self.moving else None)
        if drifts:
            if self.moving:
                jump = self._steps(np.ones(self.n_deploy))
                x_new, y_new = self._draw(self.generator(new=True), n, jump)
                use = amount > 0
            else:
                x_new, y_new = self._draw(self.generator(new=True), n)
                use = rng.random(self.n_deploy) < amount * s.severity
            use = np.concatenate([np.zeros(self.n_offline, bool), use])
            x, y = np.where(use[:, None], x_new, x), np.where(use, y_new, y)
        return x, y, amount

    @cached_property
    def _standard(self) -> tuple[np.ndarray, np.ndarray]:
        x = self._data[0][: self.n_offline]
        if not self.standardize:
            return np.zeros(self.n_features), np.ones(self.n_features)
        sd = x.std(axis=0)
        return x.mean(axis=0), np.where(sd > 0, sd, 1.0)

    def offline(self) -> OfflineData:
        x, y, _ = self._data
        mean, sd = self._standard
        return split_offline((x[: self.n_offline] - mean) / sd, y[: self.n_offline], self.val_fraction)

    def deploy(self) -> DeployData:
        x, y, _ = self._data
        mean, sd = self._standard
        return deploy_data(self.schedule, (x[self.n_offline :] - mean) / sd, y[self.n_offline :])

    def post_drift(self) -> OfflineData:
        """``n_offline`` samples (split like the offline data, standardised with the offline
        statistics) of the new concept at the run's severity: what an oracle trains on. They take
        the new concept's draws at the offline positions, which the deployment stream never uses. A
        moving generator jumps by the full move before its first draw (one draw later when it moves
        after yielding; that first draw, still of the old concept, is dropped). A switching family
        mixes in the new concept's draws with chance ``severity``, as its deployment does."""
        n, after = self.n_offline, self.post_drift_schedule()
        severity = after.severity if after.kind == "concept" else 0.0
        if self.moving:
            steps = np.zeros(n + 1)
            steps[0] = severity * self.drift_magnitude
            x, y = self._draw(self.generator(new=True), n + 1, steps)
            x, y = (x[1:], y[1:]) if self.moves_after_sample else (x[:-1], y[:-1])
        else:  # as in deployment, a share ``severity`` of the draws come from the new concept
            x, y = self._draw(self.generator(new=False), n)
            x_new, y_new = self._draw(self.generator(new=True), n)
            use = self.rng(2).random(n) < severity
            x, y = np.where(use[:, None], x_new, x), np.where(use, y_new, y)
        mean, sd = self._standard
        return split_offline((x - mean) / sd, y, self.val_fraction)

    def details(self) -> dict:
        """The column order and the drift in concrete units, for ``stream.json``."""
        return {"columns": self.columns, "drift_units": self.drift_units()}

    def drift_units(self) -> dict:
        s = self.schedule
        if s.kind != "concept":
            return {}
        if self.moving:
            return {self.moving: s.severity * self.drift_magnitude}
        return {"share_on_new_concept": s.severity, "concepts": [self.concept, self.drift_concept]}
