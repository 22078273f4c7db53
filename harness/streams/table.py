"""``stream=table``: a user's own CSV or parquet file replayed as recorded, with its natural drift.

The rows, in file order (or sorted by ``order``), are split once: the first ``n_offline`` are the
pre-deployment data (the last ``val_fraction`` of them the validation split, in order), every row
after them is the deployment stream, each exactly once, never resampled or shuffled (``n_deploy``
may cut it short; by default it runs to the end of the file). Labels are encoded ``0..K-1`` over the
whole file, so a class that appears only after the offline rows keeps its own index and its samples
are flagged ``novel``: the frozen model has never seen it and cannot answer it correctly.

The drift is the data's own. ``drift.*`` does not apply (it is recorded in ``stream.json`` as
ignored); ``change_points`` declares known changes (see :mod:`harness.streams.natural`).
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from harness import validate
from harness.errors import ConfigError
from harness.streams.base import DeployData, DriftSchedule, OfflineData, check_count, check_fraction, deploy_data
from harness.streams.base import split_offline
from harness.streams.natural import NaturalDrift
from harness.streams.table_file import load_table

MIN_DEPLOY = 100  # deployment rows a table must leave after the offline ones


class TableStream:
    """Rows of a file: offline first, then the deployment stream in order; drift natural or declared."""

    family = "table"
    natural_drift = True  # drift.* is not applied: build_stream accepts any kind and pattern
    kinds: tuple[str, ...] = ()  # no drift.kind is generated: the drift is the data's own
    patterns: tuple[str, ...] = ()

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        seed: int = 0,
        path: Optional[str] = None,
        target: Optional[str] = None,
        features: Optional[List[str]] = None,
        order: Optional[str] = None,
        n_offline: int = 1000,
        val_fraction: float = 0.25,
        n_deploy: Optional[int] = None,
        dropna: bool = False,
        change_points: Optional[List[int]] = None,
        n_classes: Optional[int] = None,
    ):
        if path is None:
            raise ConfigError(f"stream.path is required for stream={self.family}: stream.path=FILE (.csv or .parquet)")
        if target is None:
            raise ConfigError(f"stream.target is required for stream={self.family}: the column of labels")
        check_count("stream.n_offline", n_offline, 10)
        check_fraction("stream.val_fraction", val_fraction)
        validate.boolean("stream.dropna", dropna)
        if n_deploy is not None:
            check_count("stream.n_deploy", n_deploy, 1)
        table = load_table(path, target, None if features is None else list(features), order, dropna)
        n_rows = len(table.y)
        if n_offline > n_rows - MIN_DEPLOY:
            raise ConfigError(
                f"stream.n_offline={n_offline} is outside [10, {n_rows - MIN_DEPLOY}]: {path} has {n_rows} rows"
                f"{f' ({table.n_dropped} dropped for missing values)' if table.n_dropped else ''} and at least "
                f"{MIN_DEPLOY} must be left for deployment"
            )
        left = n_rows - n_offline
        if n_deploy is not None and n_deploy > left:
            raise ConfigError(f"stream.n_deploy={n_deploy} is outside [1, {left}]: the rows of {path} after "
                              f"stream.n_offline={n_offline}; null takes them all")
        self.table, self.path, self.target, self.order, self.dropna = table, path, target, order, dropna
        self.seed, self.n_offline, self.val_fraction = seed, n_offline, val_fraction
        self.n_deploy = left if n_deploy is None else n_deploy
        self.n_features, self.n_classes = table.X.shape[1], len(table.classes)
        if n_classes is not None and n_classes != self.n_classes:
            raise ConfigError(f"stream.n_classes={n_classes} differs from the {self.n_classes} classes of column "
                              f"{target!r} in {path} (null: read them from the file)")
        offline = self.offline()
        trained = np.unique(offline.y_train)
        if len(trained) < 2:
            raise ConfigError(
                f"stream.n_offline={n_offline} gives a training split of one class only "
                f"({target}={table.classes[trained[0]]!r} in the first {len(offline.y_train)} rows, the validation "
                f"share stream.val_fraction={val_fraction} set apart); a classifier needs at least two: "
                "raise stream.n_offline or sort the rows (stream.order)"
            )
        points = [] if change_points is None else list(change_points)
        for i, point in enumerate(points):
            low = points[i - 1] + 1 if i else 1
            validate.integer(f"stream.change_points[{i}]", point, low, self.n_deploy - 1,
                             bounds=f"[{low}, stream.n_deploy={self.n_deploy}) (deployment indices, increasing)")
        self.schedule = NaturalDrift(tuple(points))
        self.ignored_drift = schedule.as_dict()

    def offline(self) -> OfflineData:
        X, y = self.table.X[: self.n_offline], self.table.y[: self.n_offline]
        return split_offline(X, y, self.val_fraction)

    def deploy(self) -> DeployData:
        rows = slice(self.n_offline, self.n_offline + self.n_deploy)
        y = self.table.y[rows]
        novel = ~np.isin(y, self.table.y[: self.n_offline])
        return deploy_data(self.schedule, self.table.X[rows], y, novel)

    def describe(self) -> dict:
        table, deploy_y = self.table, self.table.y[self.n_offline : self.n_offline + self.n_deploy]
        unseen = sorted(set(deploy_y.tolist()) - set(table.y[: self.n_offline].tolist()))
        return {
            "family": self.family,
            "path": str(self.path),
            "sha256": table.sha256,
            "target": self.target,
            "features": list(table.features),
            "ignored_columns": list(table.ignored),
            "order": self.order,
            "dropna": self.dropna,
            "n_rows_in_file": table.n_rows,
            "n_rows_dropped": table.n_dropped,
            "classes": [str(c) for c in table.classes],
            "n_classes": self.n_classes,
            "n_features": self.n_features,
            "seed": self.seed,
            "n_offline": self.n_offline,
            "val_fraction": self.val_fraction,
            "n_deploy": self.n_deploy,
            "rows_left_unused": len(table.y) - self.n_offline - self.n_deploy,
            "novel_classes": [str(table.classes[k]) for k in unseen],
            "n_novel": int(np.isin(deploy_y, unseen).sum()),
            "schedule": self.schedule.as_dict(),
            "drift_config": {
                "applied": False,
                "why": "a table replays recorded rows: its drift is the data's own (declare known changes with "
                "stream.change_points)",
                "ignored": self.ignored_drift,
            },
            "drift_units": {},
        }
