"""Real data with induced shift: River's shipped ``Phishing`` and ``Bananas`` (nothing downloads).

The rows are shuffled with the seed; the first ``n_offline`` are the offline data, the others the
deployment pool. The deployment stream draws ``n_deploy`` rows from the pool with replacement, so
without drift it has the offline distribution (both are random parts of one data set). Shift is
induced by re-sampling the pool, the way "Failing Loudly" (Rabanser et al., 2019) builds shifted
test sets:

- ``covariate``: a drifting sample is drawn only among the pool rows whose ``shift_feature`` lies at
  or above its ``severity * quantile`` quantile (ties kept together; the top group of values if the
  quantile falls above it). The selection depends on ``x`` alone, so ``P(y | x)`` is the data's own.
- ``label``: a drifting sample is, with chance ``severity``, drawn among the pool rows of a class
  drawn from the target prior (class 0 gets ``minority_prior``, the other class the rest): ``P(x | y)``
  is the data's own.
- ``concept``: rows are drawn as without drift, but a drifting sample whose ``shift_feature`` lies at
  or above its ``quantile`` quantile has its label swapped (``y -> (y + 1) mod K``) with chance
  ``severity``: ``P(x)`` is the data's own, ``P(y | x)`` changes in that region.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from river import datasets

from harness.errors import ConfigError
from harness.streams.base import DeployData, DriftSchedule, OfflineData, check_fraction, deploy_data, split_offline
from harness.streams.shift import check_minority_prior, draw_classes, target_prior


class RealStream:
    """A River data set split into offline data and a deployment pool that is re-sampled to shift."""

    family = ""
    kinds = ("none", "covariate", "concept", "label")
    n_classes = 2
    dataset = None

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        seed: int = 0,
        n_offline: int,
        val_fraction: float = 0.25,
        n_deploy: int = 4000,
        shift_feature: str,
        quantile: float = 0.75,
        minority_prior: float = 0.1,
        n_classes: int = 2,
    ):
        if n_classes != self.n_classes:
            raise ConfigError(f"stream.n_classes={n_classes} is fixed at {self.n_classes} for stream={self.family}")
        n_rows = self.dataset.n_samples
        if not 10 <= n_offline <= n_rows - 100:
            raise ConfigError(f"stream.n_offline={n_offline} is outside [10, {n_rows - 100}] (stream={self.family} "
                              f"has {n_rows} rows; at least 100 are kept for deployment)")  # fmt: skip
        if n_deploy < 1:
            raise ConfigError(f"stream.n_deploy={n_deploy} must be >= 1")
        check_fraction("stream.val_fraction", val_fraction)
        check_fraction("stream.quantile", quantile, open_low=False, high=0.99, open_high=False)
        check_minority_prior(minority_prior, self.n_classes)
        self.columns = [str(key) for key in next(iter(self.dataset))[0]]
        if shift_feature not in self.columns:
            raise ConfigError(f"stream.shift_feature={shift_feature!r} is not one of {self.columns}")
        schedule.check(n_deploy, self.kinds, self.family)
        self.schedule, self.seed = schedule, seed
        self.n_offline, self.val_fraction, self.n_deploy = n_offline, val_fraction, n_deploy
        self.shift_feature, self.quantile, self.minority_prior = shift_feature, quantile, minority_prior
        self.n_features = len(self.columns)

    @cached_property
    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        """All rows shuffled by the seed: ``(n, d)`` floats and ``(n,)`` ints."""
        x = np.array([[float(v) for v in row.values()] for row, _ in self.dataset], dtype=float)
        y = np.array([int(label) for _, label in self.dataset], dtype=np.int64)
        order = np.random.default_rng([self.seed, 0]).permutation(len(y))
        return x[order], y[order]

    def offline(self) -> OfflineData:
        x, y = self._rows
        return split_offline(x[: self.n_offline], y[: self.n_offline], self.val_fraction)

    def deploy(self) -> DeployData:
        s = self.schedule
        x, y = self._rows
        x, y = x[self.n_offline :], y[self.n_offline :]
        rng = np.random.default_rng([self.seed, 1])
        amount = s.amount(np.arange(self.n_deploy), rng) * s.severity
        uniform = rng.random(self.n_deploy)
        feature = x[:, self.columns.index(self.shift_feature)]
        index = np.floor(uniform * len(y)).astype(np.int64)
        if s.kind == "covariate":
            index = np.where(amount > 0, self._above_quantile(feature, amount * self.quantile, uniform), index)
        labels = y[index]
        if s.kind == "concept":
            region = np.isin(index, self._above_quantile(feature, np.full(1, self.quantile), None))
            swap = region & (rng.random(self.n_deploy) < amount)
            labels = np.where(swap, (labels + 1) % self.n_classes, labels)
        if s.kind == "label":
            wanted = draw_classes(amount, target_prior(self.n_classes, self.minority_prior), rng)
            for k in np.unique(wanted[wanted >= 0]):
                rows, take = np.flatnonzero(y == k), wanted == k
                index[take] = rows[np.floor(uniform[take] * len(rows)).astype(np.int64)]
            labels = y[index]
        return deploy_data(s, x[index], labels)

    @staticmethod
    def _above_quantile(values: np.ndarray, quantile: np.ndarray, uniform: np.ndarray | None) -> np.ndarray:
        """Row indices drawn uniformly (by ``uniform``) among the rows whose value is at or above the
        per-sample ``quantile`` of ``values`` (quantile 0: all rows); with ``uniform=None``, all the
        rows at or above the single ``quantile[0]``."""
        order = np.argsort(values, kind="stable")
        ranks = np.searchsorted(values[order], values[order], side="left") / len(values)  # share strictly below
        first = np.minimum(np.searchsorted(ranks, quantile, side="left"), np.searchsorted(ranks, ranks[-1]))
        if uniform is None:
            return order[first[0] :]
        return order[first + np.floor(uniform * (len(values) - first)).astype(np.int64)]

    def describe(self) -> dict:
        s = self.schedule
        units = {
            "covariate": {"feature": self.shift_feature, "min_quantile": s.severity * self.quantile},
            "concept": {"feature": self.shift_feature, "region_min_quantile": self.quantile,
                        "swap_chance": s.severity},
            "label": {"target_prior_at_severity_1": target_prior(self.n_classes, self.minority_prior).tolist(),
                      "share_redrawn": s.severity},
        }
        return {
            "family": self.family,
            "seed": self.seed,
            "dataset": type(self.dataset).__name__,
            "n_rows": self.dataset.n_samples,
            "columns": self.columns,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "n_offline": self.n_offline,
            "val_fraction": self.val_fraction,
            "n_deploy": self.n_deploy,
            "shift_feature": self.shift_feature,
            "quantile": self.quantile,
            "minority_prior": self.minority_prior,
            "schedule": s.as_dict(self.n_deploy),
            "drift_units": units.get(s.kind, {}),
        }


class PhishingStream(RealStream):
    family, dataset = "phishing", datasets.Phishing()


class BananasStream(RealStream):
    family, dataset = "bananas", datasets.Bananas()
