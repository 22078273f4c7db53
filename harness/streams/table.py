"""``stream=table``: a user's own CSV or parquet file replayed as recorded, with its natural drift.

The rows, in file order (or sorted by ``order``), are split once: the first ``n_offline`` are the
pre-deployment data (the last ``val_fraction`` of them the validation split, in order), every row
after them is the deployment stream, each exactly once, never resampled or shuffled (``n_deploy``
may cut it short; by default it runs to the end of the file). Labels are encoded ``0..K-1`` over the
whole file, so a class that appears only after the offline rows keeps its own index and its samples
are flagged ``novel``: the frozen model has never seen it and cannot answer it correctly.

The drift is the data's own. ``drift.*`` does not apply (it is recorded in ``stream.json`` as
ignored); ``change_points`` declares known changes (see :mod:`harness.streams.natural`).

What the run computes from is the file's content, so its SHA-256 is a config value (``stream.sha256``,
filled by ``${table_sha256:}`` from the file): a run is reused only for the file it read, and a
given ``stream.sha256`` refuses a file that no longer has it.
"""

from __future__ import annotations

import logging
from typing import ClassVar, List, Optional

import numpy as np

from harness.streams.base import DeployData, DriftSchedule, OfflineData, deploy_data, split_offline
from harness.streams.natural import NaturalDrift
from harness.streams.stream import Stream
from harness.streams.table_file import Table, load_table
from harness.validation import validate
from harness.validation.errors import ConfigError

MIN_DEPLOY = 100  # deployment rows a table must leave after the offline ones
log = logging.getLogger("harness")


class RecordedStream(Stream):
    """Rows of a table read by :meth:`read`: the first ``n_offline`` offline, then the deployment stream
    in order; drift natural, or declared by ``change_points``. A subclass sets what :meth:`read` needs
    before it calls this constructor."""

    kinds: ClassVar[tuple[str, ...]] = ()  # no drift.kind is generated: the drift is the data's own
    patterns: ClassVar[tuple[str, ...]] = ()
    from_data = {"n_deploy": None}

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        change_points: Optional[List[int]] = None,  # declared changes (deployment indices); null: drift unknown
        n_offline: int = 1000,
        n_deploy: Optional[int] = None,  # null: every row after the offline ones
        **common,
    ):
        table = self.read()
        ignored = f"; left out (not numeric): {list(table.ignored)}" if table.ignored else ""
        log.info("stream=%s: %d feature columns %s, target %r%s", self.name(), len(table.features),
                 list(table.features), table.target, ignored)
        n_rows = len(table.y)
        dropped = f" ({table.n_dropped} dropped for missing values)" if table.n_dropped else ""
        validate.integer("stream.n_offline", n_offline, 10, n_rows - MIN_DEPLOY,
                         bounds=f"[10, {n_rows - MIN_DEPLOY}]: {table.path} has {n_rows} rows{dropped} and at "
                         f"least {MIN_DEPLOY} must be left for deployment")
        left = n_rows - n_offline
        if n_deploy is not None:
            validate.integer("stream.n_deploy", n_deploy, 1, left, bounds=f"[1, {left}]: the rows of {table.path} "
                             f"after stream.n_offline={n_offline}; null takes them all")
        points = NaturalDrift(tuple([] if change_points is None else change_points))
        super().__init__(points, n_offline=n_offline, n_deploy=left if n_deploy is None else n_deploy, **common)
        self.table, self.ignored_drift = table, schedule.as_dict()
        self.change_points = None if change_points is None else list(change_points)
        self.n_features = table.X.shape[1]
        y_train = self.offline().y_train
        if len(np.unique(y_train)) < 2:
            raise ConfigError(
                f"stream.n_offline={n_offline} gives a training split of one class only "
                f"({table.target}={table.classes[y_train[0]]!r} in the first {len(y_train)} rows, the "
                f"validation share stream.val_fraction={self.val_fraction} set apart); a classifier needs at least "
                "two: raise stream.n_offline or sort the rows (stream.order)"
            )

    def read(self) -> Table:
        """The rows, checked (every problem a ConfigError naming the key)."""
        raise NotImplementedError

    @classmethod
    def unsupported(cls, schedule: DriftSchedule) -> None:
        """None: ``drift.*`` is not applied to recorded rows (``stream.json`` lists it as ignored), so no
        kind or pattern is refused."""
        return None

    def offline(self) -> OfflineData:
        X, y = self.table.X[: self.n_offline], self.table.y[: self.n_offline]
        return split_offline(X, y, self.val_fraction)

    def deploy(self) -> DeployData:
        rows = slice(self.n_offline, self.n_offline + self.n_deploy)
        y = self.table.y[rows]
        novel = ~np.isin(y, self.table.y[: self.n_offline])
        return deploy_data(self.schedule, self.table.X[rows], y, novel)

    def time_axis(self) -> dict | None:
        """How figures draw deployment time: ``{"label", "values"}`` with the order column's value of
        every deployment row (``stream.order``), or None (samples)."""
        if self.table.time is None:
            return None
        values = self.table.time[self.n_offline : self.n_offline + self.n_deploy]
        values = values.tolist() if np.issubdtype(values.dtype, np.number) else [str(v) for v in values]
        return {"label": f"{self.order} (stream.order)", "values": values}

    def details(self) -> dict:
        """The file as read (its columns, classes and rows), the drift config that was not applied, and
        what a figure of real data needs: the offline majority-class accuracy (its reference line)
        and the time axis."""
        table: Table = self.table
        deploy_y = table.y[self.n_offline : self.n_offline + self.n_deploy]
        unseen = sorted(set(deploy_y.tolist()) - set(table.y[: self.n_offline].tolist()))
        offline_y = table.y[: self.n_offline]
        return {
            "recorded": True,
            "offline_majority_accuracy": float(np.bincount(offline_y).max() / len(offline_y)),
            "time_axis": self.time_axis(),
            "feature_columns": list(table.features),
            "ignored_columns": list(table.ignored),
            "n_rows_in_file": table.n_rows,
            "n_rows_dropped": table.n_dropped,
            "classes": [str(c) for c in table.classes],
            "rows_left_unused": len(table.y) - self.n_offline - self.n_deploy,
            "novel_classes": [str(table.classes[k]) for k in unseen],
            "n_novel": int(np.isin(deploy_y, unseen).sum()),
            "drift_config": {
                "applied": False,
                "why": "a table replays recorded rows: its drift is the data's own (declare known changes with "
                "stream.change_points)",
                "ignored": self.ignored_drift,
            },
            "drift_units": {},
        }


class TableStream(RecordedStream):
    """A user's CSV or parquet file, its columns chosen by ``target``, ``features`` and ``order``."""

    family = "table"
    from_data = {**RecordedStream.from_data, "n_classes": "${table_classes:}", "sha256": "${table_sha256:}"}

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        path: Optional[str] = None,
        target: Optional[str] = None,
        features: Optional[List[str]] = None,  # null: every numeric column but the target and the order column
        order: Optional[str] = None,  # null: file order
        dropna: bool = False,
        n_classes: Optional[int] = None,  # null: the number of labels in the file
        max_classes: int = 100,  # more distinct labels than this: refused (a continuous target, an id)
        sha256: Optional[str] = None,  # null: whatever the file holds; given: the file must have this SHA-256
        **common,
    ):
        if path is None:
            raise ConfigError(f"stream.path is required for stream={self.name()}: stream.path=FILE (.csv or .parquet)")
        if target is None:
            raise ConfigError(f"stream.target is required for stream={self.name()}: the column of labels")
        self.path, self.target, self.order = path, target, order
        self.dropna, self.sha256 = validate.boolean("stream.dropna", dropna), sha256
        self.features = None if features is None else list(features)
        self.max_classes = validate.integer("stream.max_classes", max_classes, 2)
        super().__init__(schedule, **common)
        self.sha256, self.n_classes = self.table.sha256, len(self.table.classes)
        if self.n_classes > self.max_classes:
            raise ConfigError(f"stream.target={target!r} has {self.n_classes} distinct values in {path}, more than "
                              f"stream.max_classes={self.max_classes}: is it a class label? (raise stream.max_classes "
                              "if it is)")
        if n_classes is not None and n_classes != self.n_classes:
            raise ConfigError(f"stream.n_classes={n_classes} differs from the {self.n_classes} classes of column "
                              f"{target!r} in {path} (null: read them from the file)")

    def read(self) -> Table:
        table = load_table(self.path, self.target, self.features, self.order, self.dropna)
        if self.sha256 is not None and self.sha256 != table.sha256:
            raise ConfigError(f"stream.sha256={self.sha256!r} is not the SHA-256 of {self.path} ({table.sha256!r}): "
                              "the file changed since; null takes it as it is")
        return table
