"""A numeric stream seen through a broken pipe (``drift.kind=pipeline``): any stream, generated or
recorded, drawn without drift of its own, whose deployment features then pass through the faults of
:mod:`harness.streams.faults`. The schedule (onset, pattern, severity) is the fault's, so phases,
detection delays and drift-induced errors are scored against it like any other known drift."""

from __future__ import annotations

import dataclasses

import numpy as np

from harness.streams.base import DeployData, DriftSchedule, OfflineData
from harness.streams.faults import (
    DEFAULT_FEATURES,
    NOISE_SD,
    OFFSET_SD,
    SCALE_MAX,
    FaultPlan,
    check_swap,
    default_features,
    fault_names,
    feature_indices,
)
from harness.validation.errors import ConfigError

_DEPLOY, _POST = 0, 1  # purposes of the fault draws: the deployment stream, the post-drift data


def quiet_schedule(schedule: DriftSchedule) -> DriftSchedule:
    """The schedule the underlying stream is drawn with: no drift of its own, the same onset."""
    return DriftSchedule("none", "none", 0.0, schedule.onset, 0)


class FaultyStream:
    """``inner`` (a stream with numeric inputs, built with :func:`quiet_schedule`) whose deployment
    features get ``fault`` (``drift.fault``) on ``features`` (``drift.features``; ``None``: the default
    rule of :mod:`harness.streams.faults`) as ``schedule`` says. Everything not about the drift
    (sizes, classes, the offline data, a table's time axis) is the inner stream's."""

    _more_tags = {"post_drift": True}  # the inner stream's concept, without the faults (for the bounds)

    def __init__(self, inner, schedule: DriftSchedule, fault, features=None):
        if fault is None:
            raise ConfigError("drift.kind=pipeline needs drift.fault: one of "
                              "['scale', 'offset', 'missing', 'stuck', 'swap', 'noise'] or a list of them")
        faults = fault_names(fault)
        schedule.check(inner.n_deploy)
        self.inner, self.schedule = inner, schedule
        self.names = self.feature_names()
        offline = inner.offline()
        if features is None:
            chosen = default_features(offline.X_train, offline.y_train)
            check_swap(chosen, faults, f"null (the default {len(chosen)} of stream.n_features={inner.n_features})")
        else:
            chosen = feature_indices(list(features), self.names, faults)
        sd = np.asarray(offline.X_train, dtype=np.float64).std(axis=0)
        sd[~(np.isfinite(sd) & (sd > 0))] = 1.0
        last = np.asarray(offline.X_val[-1], dtype=np.float64)
        self.plan = FaultPlan(faults, chosen, schedule, inner.seed, sd, last)
        self.features_given = None if features is None else list(features)

    def __getattr__(self, name):
        """What the wrapper does not change is the inner stream's (sizes, classes, a table's time axis)."""
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def feature_names(self) -> list[str]:
        """A recorded table's column names, else ``x_0 .. x_{d-1}`` (the columns of the stream files)."""
        columns = self.inner.details().get("feature_columns")
        return list(columns) if columns else [f"x_{j}" for j in range(self.inner.n_features)]

    @property
    def drifts(self) -> bool:
        s = self.schedule
        return s.pattern != "none" and s.severity > 0

    def offline(self) -> OfflineData:
        return self.inner.offline()

    def deploy(self) -> DeployData:
        """The inner stream's deployment data, faulted, with the fault's phases and progress and the
        mask of the touched values (``faults``)."""
        data = self.inner.deploy()
        X, touched = self.plan.apply(data.X, data.t, _DEPLOY)
        return dataclasses.replace(data, X=X, phase=self.schedule.phase(data.t),
                                   drift_progress=self.schedule.progress(data.t), faults=touched)

    def post_drift(self) -> OfflineData:
        """Offline-sized data after the fault (for the oracle bounds): the offline data with the fault
        on every sample, at the run's severity."""
        offline = self.inner.offline()
        full = DriftSchedule("pipeline", "sudden", self.schedule.severity if self.schedule.pattern != "none" else 0.0,
                             0, 0)
        plan = dataclasses.replace(self.plan, schedule=full)
        X_train, _ = plan.apply(offline.X_train, np.arange(len(offline.y_train)), _POST)
        X_val, _ = plan.apply(offline.X_val, np.arange(len(offline.y_val)), _POST + 1)
        return dataclasses.replace(offline, X_train=X_train, X_val=X_val)

    def record(self) -> dict:
        """The faults as applied, for ``stream.json`` and ``result.json``."""
        return {
            "faults": list(self.plan.faults),
            "features": list(self.plan.features),
            "feature_names": [self.names[j] for j in self.plan.features],
            "features_rule": "given (drift.features)" if self.features_given is not None else
            f"the {DEFAULT_FEATURES} features with the largest ANOVA F of the labels on the offline training split",
            "scale_factor": SCALE_MAX ** self.schedule.severity,
            "offset_sd": OFFSET_SD * self.schedule.severity,
            "noise_sd": NOISE_SD * self.schedule.severity,
            "chance": self.schedule.severity,
        }

    def describe(self) -> dict:
        described = self.inner.describe()
        return {**described, "schedule": self.schedule.as_dict(self.inner.n_deploy), "pipeline": self.record()}
