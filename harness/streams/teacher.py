"""The ``teacher`` family: Gaussian inputs labelled by a fixed random network.

Inputs are ``x ~ N(0, I_d)``. A random one-hidden-layer network with sine units (random Fourier
features) gives the labels: ``y = argmax(W2 sin(W1 x + b1) + c)``, rows of ``W1`` drawn with scale
``gain / sqrt(d)``, the class offsets ``c`` set so that the classes are balanced on the offline
distribution (or class 0 has ``offline_majority`` and the others share the rest); then a share
``label_noise`` of the labels is replaced by a uniformly drawn class.
Sine units keep bending outside the training data, where a ReLU network extrapolates linearly:
that is what makes inputs the model has never seen dangerous (a tanh teacher saturates out there
and moving the inputs costs a frozen model only a few points).

Drift, at full strength (``severity * progress = 1``):

- ``concept``: the teacher sees its input rotated by ``rotation_deg * severity`` degrees in every
  plane of a random orthogonal basis. ``P(x)`` is isotropic, so it stays exactly the same, and so do
  the class priors; only ``P(y | x)`` moves.
- ``covariate``: inputs are scaled by ``1 + (scale - 1) * severity`` and translated by
  ``shift_sd * severity`` standard deviations along a random unit direction; the teacher is unchanged.
- ``label``: a drifting sample is, with chance ``severity``, redrawn from the offline distribution
  conditioned on a class drawn from the target prior (class 0 gets ``minority_prior``, the other
  classes share the rest): the priors move, ``P(x | y)`` stays.
- ``novel``: a drifting sample is, with chance ``novel_share``, replaced by one from a cluster
  ``N(severity * novel_distance * u, novel_spread^2 I)`` along a random unit direction ``u``,
  labelled by the same teacher (marked ``novel``); the other inputs and the teacher are unchanged.

For ``incremental`` drift every sample carries its own amount ``progress * severity`` (a rotation or a
translation part of the way); the mixing kinds (label, novel) use it as a chance.

Every RNG is made from ``seed`` inside the method that draws, so iterating twice gives the same data.
The deployment stream uses the same draws whatever the severity (common random numbers), so runs
that differ only in severity differ only by the drift.
"""

from __future__ import annotations

from functools import cached_property, lru_cache, partial

import numpy as np

from harness.streams.base import (
    DeployData,
    DriftSchedule,
    OfflineData,
    check_count,
    check_fraction,
    check_positive,
    deploy_data,
    split_offline,
)
from harness.streams.shift import (
    as_slice,
    check_minority_prior,
    check_shift,
    draw_classes,
    majority_prior,
    rotate_planes,
    take_by_class,
    target_prior,
    unit_vector,
)
from harness.streams.stream import Stream

_TEACHER, _DRIFT, _OFFLINE, _DEPLOY, _POST = range(5)  # independent RNG streams per purpose
ROWS = 1 << 18  # rows the teacher labels at a time: its memory stays flat however long the stream


class TeacherStream(Stream):
    family = "teacher"
    _more_tags = {"post_drift": True}
    kinds = ("none", "concept", "covariate", "label", "novel")

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        n_features: int = 10,
        n_classes: int = 3,
        hidden: int = 32,
        gain: float = 1.5,
        label_noise: float = 0.05,
        rotation_deg: float = 90.0,
        shift_sd: float = 2.0,
        scale: float = 2.0,
        offline_majority: float | None = None,
        minority_prior: float = 0.05,
        novel_distance: float = 6.0,
        novel_spread: float = 0.5,
        novel_share: float = 0.3,
        **common,
    ):
        check_count("stream.n_features", n_features, 2)
        check_count("stream.n_classes", n_classes, 2)
        super().__init__(schedule, **common)
        check_count("stream.hidden", hidden, 1)
        check_positive("stream.gain", gain, 0)
        check_fraction("stream.label_noise", label_noise, open_low=False)
        check_shift(
            rotation_deg=rotation_deg,
            shift_sd=shift_sd,
            scale=scale,
            novel_distance=novel_distance,
            novel_spread=novel_spread,
            novel_share=novel_share,
        )
        check_minority_prior(minority_prior, n_classes)
        uniform = np.full(n_classes, 1.0 / n_classes)
        self.prior = uniform if offline_majority is None else majority_prior(offline_majority, n_classes)
        self.n_features = n_features
        self.n_classes = n_classes
        self.hidden = hidden
        self.gain = gain
        self.label_noise = label_noise
        self.rotation_deg = rotation_deg
        self.shift_sd = shift_sd
        self.scale = scale
        self.minority_prior = minority_prior
        self.offline_majority = offline_majority
        self.novel_distance = novel_distance
        self.novel_spread = novel_spread
        self.novel_share = novel_share

    # -- the labelling function -------------------------------------------------------------

    @cached_property
    def _teacher_params(self) -> tuple[np.ndarray, ...]:
        return _teacher_params(self.seed, self.n_features, self.hidden, self.n_classes, self.gain,
                               tuple(self.prior.tolist()))

    @cached_property
    def _teacher_params32(self) -> tuple[np.ndarray, ...]:
        return tuple(p.astype(np.float32) for p in self._teacher_params)

    def teacher(self, x: np.ndarray) -> np.ndarray:
        """Noise-free labels of the pre-deployment concept for inputs ``x`` of shape ``(n, d)``.

        Evaluated in float32, where numpy's sine is vectorised (several times faster than in float64;
        on a million draws not one label differed), in place where the result is a fresh array, ``ROWS``
        rows at a time: the ``(n, hidden)`` activations of a long stream would take GBs."""
        w1, b1, w2, offsets = self._teacher_params32
        labels = np.empty(len(x), dtype=np.intp)
        for a in range(0, len(x), ROWS):
            hidden = np.asarray(x[a:a + ROWS], dtype=np.float32) @ w1.T
            hidden += b1
            logits = np.sin(hidden, out=hidden) @ w2.T
            logits += offsets
            labels[a:a + ROWS] = logits.argmax(axis=1)
        return labels

    @cached_property
    def _drift_geometry(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A random orthogonal basis (rotation planes), a unit direction (translation), another (novel)."""
        rng = self.rng(_DRIFT)
        q, _ = np.linalg.qr(rng.normal(size=(self.n_features, self.n_features)))
        direction = rng.normal(size=self.n_features)
        return q, direction / np.linalg.norm(direction), unit_vector(rng, self.n_features)

    def _rotate(self, x: np.ndarray, degrees) -> np.ndarray:
        """``x`` rotated by ``degrees`` (one per row) in every plane of the drift basis."""
        return rotate_planes(x, self._drift_geometry[0], np.broadcast_to(degrees, len(x)))

    def _concept_labels(self, x: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """Teacher labels ``(n,)`` of ``x`` ``(n, d)``, each row with ``amount > 0`` rotated by
        ``amount * rotation_deg`` (what the teacher sees under concept drift), ``ROWS`` rows at a time:
        no rotated copy of the whole stream is held."""
        labels = np.empty(len(x), dtype=np.intp)
        for a in range(0, len(x), ROWS):
            rows, share = x[a:a + ROWS], amount[a:a + ROWS]
            seen = rows.astype(np.float32)  # the precision teacher() computes in
            moved = as_slice(share > 0)
            if share[moved].size:
                seen[moved] = self._rotate(rows[moved], share[moved] * self.rotation_deg)
            labels[a:a + ROWS] = self.teacher(seen)
        return labels

    def _noisy(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(y)) < self.label_noise
        random_labels = rng.integers(0, self.n_classes, size=len(y))
        return np.where(flip, random_labels, y)

    # -- the data ---------------------------------------------------------------------------

    def offline(self) -> OfflineData:
        rng = self.rng(_OFFLINE)
        x = rng.normal(size=(self.n_offline, self.n_features)).astype(np.float32)  # as deploy(): float32 rows
        y = self._noisy(self.teacher(x), rng)
        return split_offline(x, y, self.val_fraction)

    def _unshifted(self, round_: int, size: int, purpose: int = _DEPLOY) -> tuple[np.ndarray, np.ndarray]:
        """Fresh draws of the offline distribution (for label shift), seeded by ``round_``."""
        rng = self.rng(purpose, 2, round_)
        x = rng.normal(size=(size, self.n_features))
        return x, self._noisy(self.teacher(x), rng)

    def deploy(self) -> DeployData:
        return self._draw(self.schedule, self.n_deploy, _DEPLOY)

    def post_drift(self) -> OfflineData:
        """``n_offline`` fresh samples (split like the offline data) of the concept after the drift,
        fully applied at the run's severity: what an oracle trains on. Drawn from their own RNG
        stream, so they share no sample with the deployment stream."""
        data = self._draw(self.post_drift_schedule(), self.n_offline, _POST)
        return split_offline(data.X, data.y, self.val_fraction)

    def _draw(self, s: DriftSchedule, n: int, purpose: int) -> DeployData:
        """``n`` samples of the schedule ``s``, from the RNG streams of ``purpose``. Drawn, moved and
        labelled ``ROWS`` rows at a time into one float32 array (a 10M-sample stream's float64 draws
        alone would take 800 MB); the values are those of drawing every row at once, because a
        generator's successive draws continue one sequence and every step is row by row."""
        rng = self.rng(purpose)
        share = s.amount(np.arange(n), rng)  # of the new concept, per sample
        noise_rng = self.rng(purpose, 1)
        kind_rng = self.rng(purpose, 3)
        amount = share * s.severity
        novel = np.zeros(n, dtype=bool)
        _, direction, novel_direction = self._drift_geometry
        if s.kind == "novel":
            novel = (kind_rng.random(n) < share * self.novel_share) & (s.severity > 0)
            centre = s.severity * self.novel_distance * novel_direction
            novel_x = centre + self.novel_spread * kind_rng.normal(size=(novel.sum(), self.n_features))
        concept = s.kind == "concept" and amount.any()
        x = np.empty((n, self.n_features), dtype=np.float32)
        clean = np.empty(n, dtype=np.intp)
        placed = 0  # novel rows placed so far
        for a in range(0, n, ROWS):
            b = min(a + ROWS, n)
            rows, part = rng.normal(size=(b - a, self.n_features)), amount[a:b]
            if s.kind == "covariate":
                rows = rows * (1.0 + part * (self.scale - 1.0))[:, None] + (part * self.shift_sd)[:, None] * direction
            elif s.kind == "novel":
                here = novel[a:b]
                rows[here] = novel_x[placed : placed + here.sum()]
                placed += here.sum()
            clean[a:b] = self._concept_labels(rows, part) if concept else self.teacher(rows)
            x[a:b] = rows
        y = self._noisy(clean, noise_rng)
        if s.kind == "label":
            wanted = draw_classes(amount, target_prior(self.n_classes, self.minority_prior), kind_rng)
            shifted = wanted >= 0
            if shifted.any():
                x[shifted], y[shifted] = take_by_class(wanted[shifted], partial(self._unshifted, purpose=purpose))
        return deploy_data(s, x, y, novel)

    def details(self) -> dict:
        """The drift in concrete units, for ``stream.json``."""
        s = self.schedule
        target = target_prior(self.n_classes, self.minority_prior)
        units = {
            "concept": {"rotation_deg": s.severity * self.rotation_deg},
            "covariate": {"shift_sd": s.severity * self.shift_sd, "scale": 1 + (self.scale - 1) * s.severity},
            "label": {"target_prior": (s.severity * target + (1 - s.severity) * self.prior).tolist()},
            "novel": {"distance_sd": s.severity * self.novel_distance, "spread_sd": self.novel_spread,
                      "share": self.novel_share},
        }
        return {"drift_units": units.get(s.kind, {})}


@lru_cache(maxsize=64)
def _teacher_params(seed: int, d: int, h: int, k: int, gain: float, prior: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """The teacher's weights ``w1 (h, d)``, ``b1 (h,)``, ``w2 (k, h)`` and class offsets ``(k,)``.

    Cached per process: the offsets take a few hundred argmax passes over 20,000 draws, and every
    job of a sweep (and the preflight and the run of one job) asks for the same teacher of its seed.
    The arrays are read-only, so no caller can change what the others get.
    """
    rng = np.random.default_rng([seed, _TEACHER])
    w1 = rng.normal(size=(h, d)) * gain / np.sqrt(d)
    b1 = rng.normal(size=h) * 0.5
    w2 = rng.normal(size=(k, h)) / np.sqrt(h)
    sample = rng.normal(size=(20_000, d))
    offsets = _balancing_offsets(np.sin(sample @ w1.T + b1) @ w2.T, np.asarray(prior))
    params = (w1, b1, w2, offsets)
    for array in params:
        array.flags.writeable = False
    return params


def _balancing_offsets(logits: np.ndarray, prior: np.ndarray, steps: int = 200, lr: float = 0.5) -> np.ndarray:
    """Class offsets that make the argmax classes' frequencies on ``logits``' inputs (nearly) ``prior``.

    A plain fixed-point iteration: no library solves "equalise argmax frequencies".
    """
    k = logits.shape[1]
    offsets = np.zeros(k)
    for _ in range(steps):
        freq = np.bincount((logits + offsets).argmax(axis=1), minlength=k) / len(logits)
        offsets -= lr * (freq - prior)
    return offsets - offsets.mean()

