"""Faults of the data pipeline (``drift.kind=pipeline``): what a broken pipe does to the features a
model sees, applied to the deployment features after a stream has generated or read them.

The labels and the concept never change; only the inputs do. Each fault touches the chosen
features (``drift.features``) of the samples the schedule puts in the fault (``DriftSchedule.amount``:
from the onset on for a sudden fault, with a rising chance for a gradual one, part of the way for an
incremental one, on and off for a recurring one). ``s`` is ``drift.severity``, ``a`` a sample's amount
(0 or 1, or in [0, 1] for an incremental fault), ``sd`` a feature's standard deviation on the offline
training split (1 for a constant feature):

- ``scale``: the value is multiplied by ``1000 ** (s * a)`` (units change; x1000 at severity 1);
- ``offset``: ``s * a * 3 sd`` is added (a recalibrated sensor);
- ``noise``: ``s * a * 3 sd * z`` is added, ``z ~ N(0, 1)`` drawn per value (measurement noise);
- ``missing``: each value is NaN with chance ``s * a``;
- ``stuck``: each value is stuck with chance ``s * a``; a stuck value repeats the feature's value at
  the last sample that was not stuck (the last offline value when there is none): a frozen sensor;
- ``swap``: each sample is swapped with chance ``s * a``: the chosen features exchange places (two
  features exchange; more are rotated by one: feature ``f_i`` gets ``f_{i-1}``'s value), a schema change.

Severity 0 returns the data unchanged. Several faults (a list) are applied in the order listed, to the
same features and the same samples. Every draw is made whatever the severity (common random numbers),
from ``SeedSequence([seed, purpose, ...])``. The ground truth is the mask of the values each fault
touched (``(n, d)`` bool): a value is touched when its fault was applied to it, even if its number
happens not to change.

The default features (``drift.features=null``) are the :data:`DEFAULT_FEATURES` features with the
largest ANOVA F statistic of the class labels on the offline training split
(``sklearn.feature_selection.f_classif``; ties and undefined statistics go to the lower index): the
ones a model fitted on that split can rely on most, known before any model exists.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.streams.base import DriftSchedule
from harness.validation.errors import ConfigError

FAULTS = ("scale", "offset", "missing", "stuck", "swap", "noise")
SCALE_MAX = 1000.0  # the factor of a scale fault at severity 1
OFFSET_SD = 3.0  # offline standard deviations added by an offset fault at severity 1
NOISE_SD = 3.0  # standard deviation of the noise fault at severity 1, in offline standard deviations
DEFAULT_FEATURES = 2  # features faulted when drift.features is null
_FAULTS, _WHEN = 101, 0  # purposes of the seeded generators (101: apart from every family's own)


def fault_names(value) -> tuple[str, ...]:
    """``drift.fault`` (one name or a list) as a tuple of names, checked: known, none twice.

    >>> fault_names("scale"), fault_names(["missing", "noise"])
    (('scale',), ('missing', 'noise'))
    """
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if not names or not all(isinstance(name, str) for name in names):
        raise ConfigError(f"drift.fault={value!r} must be one of {list(FAULTS)} or a non-empty list of them")
    for name in names:
        if name not in FAULTS:
            raise ConfigError(f"drift.fault={value!r}: {name!r} is not one of {list(FAULTS)}")
    if len(set(names)) < len(names):
        raise ConfigError(f"drift.fault={value!r} names a fault twice; each may be listed once")
    return tuple(names)


def feature_indices(value, names: list[str], faults: tuple[str, ...]) -> tuple[int, ...]:
    """``drift.features`` (indices or names of the ``len(names)`` features) as indices, checked: in
    range, known, none twice, at least two for ``swap``."""
    d = len(names)
    indices = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise ConfigError(f"drift.features={list(value)}: {item!r} is neither a feature index nor a name")
        if isinstance(item, int):
            if not 0 <= item < d:
                raise ConfigError(f"drift.features={list(value)}: index {item} is outside [0, {d}) "
                                  f"(stream.n_features={d})")
            indices.append(item)
        elif item in names:
            indices.append(names.index(item))
        else:
            raise ConfigError(f"drift.features={list(value)}: {item!r} is not a feature name; the names are {names}")
    if not indices:
        raise ConfigError("drift.features=[] is empty; give at least one feature, or null for the default")
    if len(set(indices)) < len(indices):
        raise ConfigError(f"drift.features={list(value)} names a feature twice; each may be listed once")
    check_swap(indices, faults, value)
    return tuple(indices)


def check_swap(indices, faults: tuple[str, ...], value) -> None:
    if "swap" in faults and len(indices) < 2:
        raise ConfigError(f"drift.fault=swap needs at least 2 features to exchange; drift.features={value} "
                          f"gives {len(indices)}")


def default_features(X: np.ndarray, y: np.ndarray, k: int = DEFAULT_FEATURES) -> tuple[int, ...]:
    """The ``k`` features of ``X`` ``(n, d)`` with the largest ANOVA F statistic for the labels ``y``
    (an undefined one counts as 0; ties go to the lower index), in increasing index order.

    >>> X = np.array([[0.0, 5, 1], [0.1, 6, 1], [1.0, 5, 1], [1.1, 6, 1]])
    >>> default_features(X, np.array([0, 0, 1, 1]), 1)
    (0,)
    """
    from sklearn.feature_selection import f_classif

    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a constant feature: its undefined F counts as 0
        statistic, _ = f_classif(np.asarray(X, dtype=np.float64), y)
    statistic = np.nan_to_num(statistic, nan=0.0, posinf=np.finfo(float).max)
    order = np.lexsort((np.arange(len(statistic)), -statistic))  # largest first, lower index on ties
    return tuple(sorted(int(i) for i in order[: min(k, len(statistic))]))


@dataclass(frozen=True)
class FaultPlan:
    """What to break and how: ``faults`` in order, on the columns ``features``, when ``schedule`` says;
    ``sd`` ``(d,)`` the offline training standard deviations (1 for a constant feature), ``last``
    ``(d,)`` the last offline value of each feature (what a sensor stuck from the first sample repeats)."""

    faults: tuple[str, ...]
    features: tuple[int, ...]
    schedule: DriftSchedule
    seed: int
    sd: np.ndarray
    last: np.ndarray

    def apply(self, X: np.ndarray, t: np.ndarray, purpose: int) -> tuple[np.ndarray, np.ndarray]:
        """``(X_faulted, touched)``: a faulted copy of ``X`` ``(n, d)`` (same dtype) at times ``t``, and
        the ``(n, d)`` bool mask of the values a fault touched. ``purpose`` keeps the draws of the
        deployment stream apart from those of other data faulted the same way."""
        X = np.array(X, copy=True)
        touched = np.zeros(X.shape, dtype=bool)
        amount = self.schedule.amount(t, np.random.default_rng([self.seed, _FAULTS, purpose, _WHEN]))
        amount = amount * self.schedule.severity
        columns = list(self.features)
        for index, fault in enumerate(self.faults):
            rng = np.random.default_rng([self.seed, _FAULTS, purpose, 1 + FAULTS.index(fault), index])
            part, hit = _FUNCTIONS[fault](self, X[:, columns].astype(np.float64), amount, rng)
            X[:, columns] = part.astype(X.dtype)
            touched[:, columns] |= hit
        return X, touched


def _scale(plan, x, amount, rng):
    return x * SCALE_MAX ** amount[:, None], np.broadcast_to(amount[:, None] > 0, x.shape)


def _offset(plan, x, amount, rng):
    return x + (OFFSET_SD * amount)[:, None] * plan.sd[list(plan.features)], np.broadcast_to(amount[:, None] > 0, x.shape)


def _noise(plan, x, amount, rng):
    z = rng.standard_normal(x.shape)
    return x + (NOISE_SD * amount)[:, None] * plan.sd[list(plan.features)] * z, np.broadcast_to(amount[:, None] > 0, x.shape)


def _missing(plan, x, amount, rng):
    hit = rng.random(x.shape) < amount[:, None]
    return np.where(hit, np.nan, x), hit


def _stuck(plan, x, amount, rng):
    hit = rng.random(x.shape) < amount[:, None]
    rows = np.arange(len(x))[:, None]
    source = np.maximum.accumulate(np.where(hit, -1, rows), axis=0)  # last row not stuck, -1 before any
    held = np.take_along_axis(x, np.maximum(source, 0), axis=0)
    return np.where(source < 0, plan.last[list(plan.features)], held), hit


def _swap(plan, x, amount, rng):
    hit = rng.random(len(x)) < amount
    return np.where(hit[:, None], np.roll(x, 1, axis=1), x), np.broadcast_to(hit[:, None], x.shape)


_FUNCTIONS = {"scale": _scale, "offset": _offset, "noise": _noise, "missing": _missing, "stuck": _stuck, "swap": _swap}


def touched_runs(touched: np.ndarray, names: list[str]) -> pd.DataFrame:
    """The ground truth of a faulted stream as runs of consecutive touched samples per feature:
    ``feature`` (index), ``name``, ``t_start``, ``t_end`` (exclusive), one row per run.

    >>> touched_runs(np.array([[0, 1], [1, 1], [1, 0], [0, 1]], dtype=bool), ["a", "b"]).values.tolist()
    [[0, 'a', 1, 3], [1, 'b', 0, 2], [1, 'b', 3, 4]]
    """
    rows = []
    for j in np.flatnonzero(touched.any(axis=0)):
        edges = np.diff(np.concatenate([[0], touched[:, j].astype(np.int8), [0]]))
        for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            rows.append({"feature": int(j), "name": names[j], "t_start": int(start), "t_end": int(end)})
    return pd.DataFrame(rows, columns=["feature", "name", "t_start", "t_end"])
