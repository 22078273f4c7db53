"""Real data with induced shift: River's shipped ``Phishing`` and ``Bananas`` (nothing downloads).

A region of the data is set apart by one feature: the rows whose ``shift_feature`` lies at or above
its ``quantile`` quantile (``shift_side="high"``) or at or below its ``1 - quantile`` quantile
(``"low"``); ties are kept together. For a covariate shift the offline data are a *biased sample*
(the sample-selection view of covariate shift): a region row is kept only with chance
``offline_keep``, the others always; for the other kinds every row is kept. The rows are shuffled
with the seed, the first ``n_offline`` kept rows are the offline data, every other row is the
deployment pool. Without drift the deployment stream takes pool rows by the same selection rule,
so it has the offline distribution. Every row is used at most once, offline or in deployment (each
sub-pool is taken in the seeded shuffled order): a stream longer than the pool can serve is refused
with the number of rows it has, so no deployment sample repeats an earlier one and an online learner
is never scored on a row it has already learned. Shift is induced by re-sampling the pool, the way
"Failing Loudly" (Rabanser et al., 2019) builds shifted test sets:

- ``covariate``: a drifting sample is, with chance ``severity``, drawn among all the pool rows of
  the region, which the offline data under-represent; the selection depends on ``x`` alone, so
  ``P(y | x)`` is the data's own.
- ``concept``: rows are drawn as without drift, but a drifting sample in the region has its label
  swapped (``y -> (y + 1) mod K``) with chance ``severity``: ``P(x)`` stays, ``P(y | x)`` moves there.
- ``label``: a drifting sample is, with chance ``severity``, drawn (by the same selection rule) among
  the pool rows of a class drawn from the target prior (class 0 gets ``minority_prior``, the other
  class the rest): ``P(x | y)`` is the offline one.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from harness.streams.base import DeployData, DriftSchedule, OfflineData, check_fraction, deploy_data, split_offline
from harness.streams.shift import check_minority_prior, draw_classes, target_prior
from harness.streams.stream import Stream
from harness.validation import validate
from harness.validation.errors import ConfigError


class RealStream(Stream):
    """A River data set split into a biased offline sample and a deployment pool re-sampled to shift.
    A subclass names the data set and the defaults that suit it (its region and its sizes)."""

    kinds = ("none", "covariate", "concept", "label")
    fixed = {"n_classes": 2}  # fixed by the data set (read by strategies as ${stream.n_classes})
    dataset_name: str = ""  # the data set's class in river.datasets

    @cached_property
    def dataset(self):
        """The River data set, imported when it is read: importing ``river.datasets`` pulls in
        scikit-learn and SQLAlchemy (seconds), which no config check needs."""
        from river import datasets

        return getattr(datasets, self.dataset_name)()

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        shift_feature: str,
        shift_side: str,
        quantile: float = 0.75,
        offline_keep: float,
        minority_prior: float = 0.1,
        **common,
    ):
        super().__init__(schedule, **common)
        check_fraction("stream.quantile", quantile, 0.0, 1.0)
        check_fraction("stream.offline_keep", offline_keep, 0.0, 1.0, open_high=False)
        check_minority_prior(minority_prior, self.n_classes)
        validate.choice("stream.shift_side", shift_side, ("high", "low"))
        self.columns = [str(key) for key in next(iter(self.dataset))[0]]
        validate.choice("stream.shift_feature", shift_feature, self.columns)
        self.shift_feature, self.shift_side, self.quantile = shift_feature, shift_side, quantile
        self.offline_keep, self.minority_prior = offline_keep, minority_prior
        self.n_features = len(self.columns)
        _, _, region, kept = self._rows
        if not 0 < region.mean() < 1:
            raise ConfigError(f"stream.quantile={quantile} puts every row of {shift_feature!r} on one side")
        if not 10 <= self.n_offline <= kept.sum() - 100:
            raise ConfigError(f"stream.n_offline={self.n_offline} is outside [10, {kept.sum() - 100}] (the rows "
                              f"of stream={self.family} kept by the selection, less 100 for deployment)")
        self._deploy_rows  # refuses a stream longer than the rows left can serve, before any compute

    @cached_property
    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All rows shuffled by the seed, ``(n, d)`` floats and ``(n,)`` ints, with the region mask and
        the selection mask (rows the biased sampling keeps)."""
        x = np.array([[float(v) for v in row.values()] for row, _ in self.dataset], dtype=float)
        y = np.array([int(label) for _, label in self.dataset], dtype=np.int64)
        rng = self.rng(0)
        order = rng.permutation(len(y))
        x, y = x[order], y[order]
        values = x[:, self.columns.index(self.shift_feature)]
        if self.shift_side == "high":
            region = values >= np.quantile(values, self.quantile)
        else:
            region = values <= np.quantile(values, 1.0 - self.quantile)
        keep = self.offline_keep if self.schedule.kind == "covariate" else 1.0
        kept = ~region | (rng.random(len(y)) < keep)
        return x, y, region, kept

    def _split(self) -> tuple[np.ndarray, np.ndarray]:
        """Row indices of the offline data and of the deployment pool."""
        kept = self._rows[3]
        offline = np.flatnonzero(kept)[: self.n_offline]
        return offline, np.setdiff1d(np.arange(len(kept)), offline)

    def offline(self) -> OfflineData:
        x, y, _, _ = self._rows
        index = self._split()[0]
        return split_offline(x[index], y[index], self.val_fraction)

    @cached_property
    def _deploy_rows(self) -> np.ndarray:
        """Row index of every deployment sample, no row taken twice: sample ``t`` takes the next unused
        pool row (in the shuffled order) of the sub-pool it is drawn from: the rows the selection rule
        keeps, the region's rows (covariate shift) or the kept rows of one class (label shift)."""
        s = self.schedule
        _, y, region, kept = self._rows
        pool = self._split()[1]
        rng = self.rng(1)
        amount = s.amount(np.arange(self.n_deploy), rng) * s.severity
        chance = rng.random(self.n_deploy)
        kept_rows, region_rows = -1, -2
        source = np.full(self.n_deploy, kept_rows)
        if s.kind == "covariate":
            source[chance < amount] = region_rows
        elif s.kind == "label":
            wanted = draw_classes(amount, target_prior(self.n_classes, self.minority_prior), rng)
            source = np.where(wanted >= 0, wanted, kept_rows)
        candidates = {kept_rows: pool[kept[pool]], region_rows: pool[region[pool]]}
        candidates.update({k: pool[kept[pool] & (y[pool] == k)] for k in range(self.n_classes)})
        names = {kept_rows: "rows kept by the selection rule", region_rows: "rows of the shifted region"}
        used = np.zeros(len(y), dtype=bool)
        position = dict.fromkeys(candidates, 0)
        rows = np.empty(self.n_deploy, dtype=np.int64)
        for t, wanted_source in enumerate(source.tolist()):  # a plain walk: sub-pools overlap
            rows_of_source, i = candidates[wanted_source], position[wanted_source]
            while i < len(rows_of_source) and used[rows_of_source[i]]:
                i += 1
            if i == len(rows_of_source):
                what = names.get(wanted_source, f"rows of class {wanted_source}")
                raise ConfigError(
                    f"stream.n_deploy={self.n_deploy} is more than stream={self.family} can serve without "
                    f"repeating a row: its {len(pool)} rows left after stream.n_offline={self.n_offline} run out "
                    f"of {what} at deployment sample {t}; lower stream.n_deploy or stream.n_offline"
                )
            rows[t], used[rows_of_source[i]], position[wanted_source] = rows_of_source[i], True, i + 1
        return rows

    def deploy(self) -> DeployData:
        s = self.schedule
        x, y, region, _ = self._rows
        index = self._deploy_rows
        amount = s.amount(np.arange(self.n_deploy), self.rng(1)) * s.severity
        labels = y[index]
        if s.kind == "concept":
            chance = self.rng(2).random(self.n_deploy)
            swap = region[index] & (chance < amount)
            labels = np.where(swap, (labels + 1) % self.n_classes, labels)
        return deploy_data(s, x[index], labels)

    def details(self) -> dict:
        """The data set, its region and the drift in concrete units, for ``stream.json``."""
        s = self.schedule
        _, _, region, _ = self._rows
        target = target_prior(self.n_classes, self.minority_prior).tolist()
        units = {
            "covariate": {"share_from_region": s.severity},
            "concept": {"swap_chance_in_region": s.severity},
            "label": {"target_prior_at_severity_1": target, "share_redrawn": s.severity},
        }
        return {
            "dataset": type(self.dataset).__name__,
            "n_rows": len(region),
            "columns": self.columns,
            "region_share": float(region.mean()),
            "region_share_offline": float(region[self._split()[0]].mean()),
            "rows_left_for_deployment": len(self._split()[1]),
            "repeated_rows": 0,  # every deployment row is a distinct row of the data set
            "drift_units": units.get(s.kind, {}),
        }


class PhishingStream(RealStream):
    """Phishing's 1,250 rows, none used twice: these sizes fit every kind and severity with
    ``drift.onset=225`` (seeds 0-3). The region: ``popup_window`` at or below its 25% quantile."""

    family, dataset_name = "phishing", "Phishing"

    def __init__(self, schedule: DriftSchedule, *, n_offline: int = 350, n_deploy: int = 450,
                 shift_feature: str = "popup_window", shift_side: str = "low", offline_keep: float = 0.1, **common):
        super().__init__(schedule, n_offline=n_offline, n_deploy=n_deploy, shift_feature=shift_feature,
                         shift_side=shift_side, offline_keep=offline_keep, **common)


class BananasStream(RealStream):
    """Bananas' 5,300 rows, none used twice: these sizes fit every kind and severity with
    ``drift.onset=1000`` (seeds 0-3). The region: feature ``2`` at or above its 75% quantile."""

    family, dataset_name = "bananas", "Bananas"

    def __init__(self, schedule: DriftSchedule, *, n_offline: int = 2000, n_deploy: int = 2000,
                 shift_feature: str = "2", shift_side: str = "high", offline_keep: float = 0.05, **common):
        super().__init__(schedule, n_offline=n_offline, n_deploy=n_deploy, shift_feature=shift_feature,
                         shift_side=shift_side, offline_keep=offline_keep, **common)
