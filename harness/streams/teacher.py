"""The ``teacher`` family: Gaussian inputs labelled by a fixed random network.

Inputs are ``x ~ N(0, I_d)``. A random one-hidden-layer network with sine units (random Fourier
features) gives the labels: ``y = argmax(W2 sin(W1 x + b1) + c)``, rows of ``W1`` drawn with scale
``gain / sqrt(d)``, the class offsets ``c`` set so that the classes are balanced on the offline
distribution; then a share ``label_noise`` of the labels is replaced by a uniformly drawn class.
Sine units keep bending outside the training data, where a ReLU network extrapolates linearly:
that is what makes inputs the model has never seen dangerous (a tanh teacher saturates out there
and moving the inputs costs a frozen model only a few points).

Drift, at full strength (``severity * progress = 1``):

- ``concept``: the teacher sees its input rotated by ``rotation_deg * severity`` degrees in every
  plane of a random orthogonal basis. ``P(x)`` is isotropic, so it stays exactly the same, and so do
  the class priors; only ``P(y | x)`` moves.
- ``covariate``: inputs are scaled by ``1 + (scale - 1) * severity`` and translated by
  ``shift_sd * severity`` standard deviations along a random unit direction; the teacher is unchanged.

Every RNG is made from ``seed`` inside the method that draws, so iterating twice gives the same data.
The deployment stream uses the same draws whatever the severity (common random numbers), so runs
that differ only in severity differ only by the drift.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from harness.errors import ConfigError
from harness.streams.base import DeployData, DriftSchedule, OfflineData, check_positive

_TEACHER, _DRIFT, _OFFLINE, _DEPLOY = range(4)  # independent RNG streams per purpose


class TeacherStream:
    family = "teacher"
    kinds = ("none", "concept", "covariate")

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        seed: int = 0,
        n_features: int = 10,
        n_classes: int = 3,
        n_offline: int = 4000,
        val_fraction: float = 0.25,
        n_deploy: int = 6000,
        hidden: int = 32,
        gain: float = 1.5,
        label_noise: float = 0.05,
        rotation_deg: float = 90.0,
        shift_sd: float = 2.0,
        scale: float = 2.0,
    ):
        check_positive("stream.n_features", n_features, 2)
        check_positive("stream.n_classes", n_classes, 2)
        check_positive("stream.n_offline", n_offline, 10)
        check_positive("stream.n_deploy", n_deploy, 1)
        check_positive("stream.hidden", hidden, 1)
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError(f"stream.val_fraction={val_fraction} is outside (0, 1)")
        if not 0.0 <= label_noise < 1.0:
            raise ConfigError(f"stream.label_noise={label_noise} is outside [0, 1)")
        schedule.check(n_deploy, self.kinds, self.family)
        self.schedule = schedule
        self.seed = seed
        self.n_features = n_features
        self.n_classes = n_classes
        self.n_offline = n_offline
        self.val_fraction = val_fraction
        self.n_deploy = n_deploy
        self.hidden = hidden
        self.gain = gain
        self.label_noise = label_noise
        self.rotation_deg = rotation_deg
        self.shift_sd = shift_sd
        self.scale = scale

    # -- the labelling function -------------------------------------------------------------

    def _rng(self, purpose: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, purpose])

    @cached_property
    def _teacher_params(self) -> tuple[np.ndarray, ...]:
        rng = self._rng(_TEACHER)
        d, h, k = self.n_features, self.hidden, self.n_classes
        w1 = rng.normal(size=(h, d)) * self.gain / np.sqrt(d)
        b1 = rng.normal(size=h) * 0.5
        w2 = rng.normal(size=(k, h)) / np.sqrt(h)
        sample = rng.normal(size=(20_000, d))
        offsets = _balancing_offsets(np.sin(sample @ w1.T + b1) @ w2.T)
        return w1, b1, w2, offsets

    def teacher(self, x: np.ndarray) -> np.ndarray:
        """Noise-free labels of the pre-deployment concept for inputs ``x`` of shape ``(n, d)``."""
        w1, b1, w2, offsets = self._teacher_params
        return (np.sin(np.asarray(x, dtype=float) @ w1.T + b1) @ w2.T + offsets).argmax(axis=1)

    @cached_property
    def _drift_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """A random orthogonal basis (rotation planes) and a random unit direction (translation)."""
        rng = self._rng(_DRIFT)
        q, _ = np.linalg.qr(rng.normal(size=(self.n_features, self.n_features)))
        direction = rng.normal(size=self.n_features)
        return q, direction / np.linalg.norm(direction)

    def _rotate(self, x: np.ndarray, degrees: float) -> np.ndarray:
        q, _ = self._drift_geometry
        z = x @ q  # coordinates in the rotation basis
        angle = np.deg2rad(degrees)
        cos, sin = np.cos(angle), np.sin(angle)
        rotated = z.copy()
        pairs = self.n_features // 2 * 2
        a, b = z[:, 0:pairs:2], z[:, 1:pairs:2]
        rotated[:, 0:pairs:2] = cos * a - sin * b
        rotated[:, 1:pairs:2] = sin * a + cos * b
        return rotated @ q.T

    def _noisy(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(y)) < self.label_noise
        random_labels = rng.integers(0, self.n_classes, size=len(y))
        return np.where(flip, random_labels, y)

    # -- the data ---------------------------------------------------------------------------

    def offline(self) -> OfflineData:
        rng = self._rng(_OFFLINE)
        x = rng.normal(size=(self.n_offline, self.n_features))
        y = self._noisy(self.teacher(x), rng)
        n_val = max(1, int(round(self.n_offline * self.val_fraction)))
        n_train = self.n_offline - n_val
        x = x.astype(np.float32)
        return OfflineData(x[:n_train], y[:n_train], x[n_train:], y[n_train:])

    def deploy(self) -> DeployData:
        rng = self._rng(_DEPLOY)
        s = self.schedule
        t = np.arange(self.n_deploy)
        progress = s.progress(t)
        new_concept = rng.random(self.n_deploy) < progress
        x = rng.normal(size=(self.n_deploy, self.n_features))
        noise_rng = np.random.default_rng([self.seed, _DEPLOY, 1])
        amount = new_concept * s.severity
        if s.kind == "covariate":
            _, direction = self._drift_geometry
            x = x * (1.0 + amount * (self.scale - 1.0))[:, None] + (amount * self.shift_sd)[:, None] * direction
            y = self.teacher(x)
        elif s.kind == "concept":
            y = self.teacher(x)
            if amount.any():
                y[new_concept] = self.teacher(self._rotate(x[new_concept], s.severity * self.rotation_deg))
        else:
            y = self.teacher(x)
        return DeployData(
            X=x.astype(np.float32),
            y=self._noisy(y, noise_rng).astype(np.int64),
            t=t,
            phase=s.phase(t),
            drift_progress=progress,
            novel=np.zeros(self.n_deploy, dtype=bool),
        )

    def describe(self) -> dict:
        """Parameters and the drift in concrete units, for ``stream.json``."""
        s = self.schedule
        return {
            "family": self.family,
            "seed": self.seed,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "n_offline": self.n_offline,
            "val_fraction": self.val_fraction,
            "n_deploy": self.n_deploy,
            "hidden": self.hidden,
            "gain": self.gain,
            "label_noise": self.label_noise,
            "schedule": s.as_dict(),
            "drift_units": {
                "concept": {"rotation_deg": s.severity * self.rotation_deg},
                "covariate": {"shift_sd": s.severity * self.shift_sd, "scale": 1 + (self.scale - 1) * s.severity},
            }.get(s.kind, {}),
        }


def _balancing_offsets(logits: np.ndarray, steps: int = 200, lr: float = 0.5) -> np.ndarray:
    """Class offsets that make the argmax classes (nearly) equally frequent on ``logits``' inputs.

    A plain fixed-point iteration: no library solves "equalise argmax frequencies".
    """
    k = logits.shape[1]
    offsets = np.zeros(k)
    for _ in range(steps):
        freq = np.bincount((logits + offsets).argmax(axis=1), minlength=k) / len(logits)
        offsets -= lr * (freq - 1.0 / k)
    return offsets - offsets.mean()
