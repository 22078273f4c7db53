"""The ``gaussian_classes`` family: class-conditional Gaussians, multiclass, vectorised in numpy.

Offline, ``y`` is drawn from a prior where class 0 has ``offline_majority`` and the other classes
share the rest (``1 / n_classes``: balanced), and ``x | y ~ N(mu_y,
diag(sigma_y^2))``: the means lie at ``separation`` from the origin along random directions, the
standard deviations are drawn per class and feature in [0.5, 2] (so the Bayes boundary is quadratic).
The labelling function of this family is the Bayes posterior ``P(y | x)`` of that mixture; a label is
drawn from it (inverse CDF) whenever ``x`` is drawn before ``y``.

Drift, at full strength (``severity * amount = 1``):

- ``covariate``: ``x`` is scaled by ``scale`` (about the origin; below 1 the inputs crowd into the
  region where the classes overlap) and translated by ``shift_sd`` along a random unit direction;
  labels are drawn from the offline posterior at the moved ``x``.
- ``concept``: ``x`` keeps its offline distribution; labels are drawn from the posterior of the
  mixture rotated by ``rotation_deg`` in every plane of a random orthogonal basis.
- ``label``: the class prior moves to the target prior (class 0 becomes the minority with
  ``minority_prior``, the other classes share the rest); ``x | y`` is unchanged.
- ``novel``: a share ``novel_share`` of the drifting samples comes from ``N(severity *
  novel_distance * u, novel_spread^2 I)``, labelled by the offline posterior, marked ``novel``.
"""

from __future__ import annotations

import itertools
from functools import cached_property

import numpy as np

from harness.streams.base import (
    DeployData,
    DriftSchedule,
    OfflineData,
    check_count,
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
    target_prior,
    unit_vector,
)
from harness.streams.stream import Stream

_MODEL, _DRIFT, _OFFLINE, _DEPLOY, _POST = range(5)


class GaussianClassesStream(Stream):
    family = "gaussian_classes"
    _more_tags = {"post_drift": True}
    kinds = ("none", "covariate", "concept", "label", "novel")

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        n_features: int = 10,
        n_classes: int = 3,
        separation: float = 2.0,
        rotation_deg: float = 90.0,
        shift_sd: float = 2.0,
        scale: float = 0.3,
        offline_majority: float = 0.6,
        minority_prior: float = 0.05,
        novel_distance: float = 10.0,
        novel_spread: float = 2.0,
        novel_share: float = 0.3,
        **common,
    ):
        check_count("stream.n_features", n_features, 2)
        check_count("stream.n_classes", n_classes, 2)
        super().__init__(schedule, **common)
        check_positive("stream.separation", separation, 0)
        check_shift(
            rotation_deg=rotation_deg,
            shift_sd=shift_sd,
            scale=scale,
            novel_distance=novel_distance,
            novel_spread=novel_spread,
            novel_share=novel_share,
        )
        check_minority_prior(minority_prior, n_classes)
        self.prior = majority_prior(offline_majority, n_classes)
        self.offline_majority = offline_majority
        self.n_features, self.n_classes = n_features, n_classes
        self.separation, self.rotation_deg = separation, rotation_deg
        self.shift_sd, self.scale, self.minority_prior = shift_sd, scale, minority_prior
        self.novel_distance, self.novel_spread, self.novel_share = novel_distance, novel_spread, novel_share

    @cached_property
    def _mixture(self) -> tuple[np.ndarray, np.ndarray]:
        """Class means ``(K, d)`` and standard deviations ``(K, d)``."""
        rng = self.rng(_MODEL)
        directions = rng.normal(size=(self.n_classes, self.n_features))
        means = self.separation * directions / np.linalg.norm(directions, axis=1, keepdims=True)
        return means, rng.uniform(0.5, 2.0, size=(self.n_classes, self.n_features))

    @cached_property
    def _drift_geometry(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rotation basis ``(d, d)``, translation direction and novel-cluster direction ``(d,)``."""
        rng = self.rng(_DRIFT)
        q, _ = np.linalg.qr(rng.normal(size=(self.n_features, self.n_features)))
        return q, unit_vector(rng, self.n_features), unit_vector(rng, self.n_features)

    def log_posterior(self, x: np.ndarray) -> np.ndarray:
        """``log P(y | x)`` up to a per-row constant under the offline mixture, ``(n, K)``."""
        means, sds = self._mixture
        precision = 1.0 / sds**2  # (K, d); the squares expand into two matrix products
        x = np.asarray(x, dtype=float)
        quadratic = (x**2) @ precision.T
        quadratic -= 2.0 * (x @ (means * precision).T)  # scaling by 2 is exact: (2x) @ m == 2 (x @ m)
        quadratic += (means**2 * precision).sum(axis=1)
        quadratic *= -0.5
        quadratic -= np.log(sds).sum(axis=1)
        quadratic += np.log(self.prior)
        return quadratic

    def _label(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        log_p = self.log_posterior(x)
        columns = list(log_p.T)  # column by column: numpy reduces a short last axis slowly
        log_p -= np.maximum.reduce(columns)[:, None]
        np.exp(log_p, out=log_p)
        cdf = list(itertools.accumulate(log_p.T))  # the columns of np.cumsum(weights, axis=1)
        threshold = rng.random(len(x)) * cdf[-1]
        label = np.zeros(len(x), dtype=np.int64)
        for column in cdf[:-1]:  # inverse CDF: the number of cumulative weights below the draw
            label += threshold > column
        return label

    def _conditional(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        means, sds = self._mixture
        x = rng.standard_normal(size=(len(y), self.n_features), dtype=np.float32)
        x *= np.take(sds.astype(np.float32), y, axis=0)  # take: a faster gather than indexing
        x += np.take(means.astype(np.float32), y, axis=0)
        return x

    def _rotate(self, x: np.ndarray, degrees: np.ndarray) -> np.ndarray:
        """``x`` rotated by ``degrees`` (one per row) in every plane of the drift basis."""
        return rotate_planes(x, self._drift_geometry[0], degrees)

    def offline(self) -> OfflineData:
        rng = self.rng(_OFFLINE)
        y = rng.choice(self.n_classes, size=self.n_offline, p=self.prior)
        return split_offline(self._conditional(y, rng), y, self.val_fraction)

    def deploy(self) -> DeployData:
        return self._draw(self.schedule, self.n_deploy, _DEPLOY)

    def post_drift(self) -> OfflineData:
        """``n_offline`` fresh samples (split like the offline data) of the concept after the drift,
        fully applied at the run's severity: what an oracle trains on. Drawn from their own RNG
        stream, so they share no sample with the deployment stream."""
        data = self._draw(self.post_drift_schedule(), self.n_offline, _POST)
        return split_offline(data.X, data.y, self.val_fraction)

    def _draw(self, s: DriftSchedule, n: int, purpose: int) -> DeployData:
        """``n`` samples of the schedule ``s``, from the RNG streams of ``purpose``."""
        rng = self.rng(purpose)
        kind_rng = self.rng(purpose, 1)
        share = s.amount(np.arange(n), rng)
        amount = share * s.severity
        y = rng.choice(self.n_classes, size=n, p=self.prior)
        novel = np.zeros(n, dtype=bool)
        if s.kind == "label":
            wanted = draw_classes(amount, target_prior(self.n_classes, self.minority_prior), kind_rng)
            y = np.where(wanted >= 0, wanted, y)
        x = self._conditional(y, rng)
        moved = amount > 0
        rows = as_slice(moved)
        _, direction, novel_direction = self._drift_geometry
        if s.kind == "covariate" and moved.any():
            a = amount[rows, None]
            x[rows] = x[rows] * (1.0 + a * (self.scale - 1.0)) + a * self.shift_sd * direction
            y[rows] = self._label(x[rows], kind_rng)
        elif s.kind == "concept" and moved.any():
            y[rows] = self._label(self._rotate(x[rows], -amount[rows] * self.rotation_deg), kind_rng)
        elif s.kind == "novel":
            novel = (kind_rng.random(n) < share * self.novel_share) & (s.severity > 0)
            centre = s.severity * self.novel_distance * novel_direction
            x[novel] = centre + self.novel_spread * kind_rng.normal(size=(novel.sum(), self.n_features))
            y[novel] = self._label(x[novel], kind_rng)
        return deploy_data(s, x, y, novel)

    def details(self) -> dict:
        """The drift in concrete units, for ``stream.json``."""
        s = self.schedule
        target = target_prior(self.n_classes, self.minority_prior)
        units = {
            "covariate": {"shift_sd": s.severity * self.shift_sd, "scale": 1 + (self.scale - 1) * s.severity},
            "concept": {"rotation_deg": s.severity * self.rotation_deg},
            "label": {"target_prior": (s.severity * target + (1 - s.severity) * self.prior).tolist()},
            "novel": {"distance_sd": s.severity * self.novel_distance, "spread_sd": self.novel_spread,
                      "share": self.novel_share},
        }
        return {"drift_units": units.get(s.kind, {})}
