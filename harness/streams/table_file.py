"""Reading a user's table (CSV or parquet) into the arrays a stream hands out, checking it first.

Every problem with the file is a :class:`~harness.validation.errors.ConfigError` naming the key, the value and
what is allowed, raised while the stream is built (before any compute): a missing or unreadable
file, a target or order column that is not there (the columns are listed), non-numeric features
(named), a numeric column with a non-numeric cell (column, row and value named), a column that looks
like a row index or a time stamp taken by default as a feature, a target of non-integer numbers,
missing values (refused unless ``stream.dropna=true``). A file is read once per process
and content (keyed by path, size and modification time), so the class count the config resolves
(``${table_classes:}``) and the stream share one read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from omegaconf import OmegaConf

from harness.results.store import file_sha256
from harness.validation.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

# pandas' reader of each suffix; pandas itself is imported on first read, so that the stream schemas
# (registered at every command-line start, --help included) do not import it
READERS = {".csv": "read_csv", ".parquet": "read_parquet", ".pq": "read_parquet"}


@dataclass(frozen=True)
class Table:
    """The rows of a file in stream order: ``X`` float64 ``(n, d)``, ``y`` int64 ``(n,)`` in
    ``0..K-1`` (``classes[k]`` is the file's label of class ``k``, sorted), and what was left out."""

    X: np.ndarray
    y: np.ndarray
    classes: tuple
    features: tuple[str, ...]
    ignored: tuple[str, ...]  # non-numeric columns left out of the default features
    n_rows: int  # rows in the file
    n_dropped: int  # rows dropped for missing values (stream.dropna=true)
    sha256: str  # of the file's bytes
    path: str
    target: str
    time: np.ndarray | None = None  # the order column's values, row by row (None without stream.order)


@lru_cache(maxsize=8)
def _read(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """The file as a frame; ``size`` and ``mtime_ns`` only key the cache (a changed file is read again)."""
    import pandas as pd

    return getattr(pd, READERS[Path(path).suffix.lower()])(path)


def read_frame(key: str, path: str) -> pd.DataFrame:
    """The CSV or parquet file ``path`` (given by config key ``key``) as a DataFrame, not to be mutated."""
    file = Path(path).expanduser()
    if file.suffix.lower() not in READERS:
        raise ConfigError(f"{key}={path!r} is not a table this harness reads; allowed suffixes: {sorted(READERS)}")
    if not file.is_file():
        raise ConfigError(f"{key}={path!r} does not exist (or is not a file); give the path of a CSV or parquet file")
    stat = file.stat()
    try:
        return _read(str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    except Exception as error:  # pandas and pyarrow raise many types for a damaged file
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{key}={path!r} cannot be read as {file.suffix.lower()[1:]}: {first}") from None


def _column(key: str, name: str, frame: pd.DataFrame, path: str) -> str:
    if name not in frame.columns:
        raise ConfigError(f"{key}={name!r} is not a column of {path}; columns: {[str(c) for c in frame.columns]}")
    return name


def _check_numeric_looking(frame: pd.DataFrame, columns, path: str) -> None:
    """A column pandas read as text although most of its cells are numbers holds a cell that is not
    one (a typo, a unit, a comma): refused naming the column, the row and the value, rather than the
    column silently left out of the features."""
    import pandas as pd

    for name in columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            continue
        present = column.dropna()
        parsed = pd.to_numeric(present, errors="coerce")
        if len(present) and parsed.notna().mean() > 0.5:
            row = parsed.index[parsed.isna()][0]
            raise ConfigError(f"stream.path: column {str(name)!r} of {path} holds numbers but row {row} (counting "
                              "data rows from "
                              f"0) has {present[row]!r}, which is not a number; fix the cell, or drop the column")


def _looks_like_an_index(column: pd.Series) -> bool:
    """Strictly increasing integers (a row number 0..n-1 or 1..n, an id, a time stamp in ticks).

    >>> import pandas as pd
    >>> _looks_like_an_index(pd.Series([1, 2, 3])), _looks_like_an_index(pd.Series([1.0, 0.5, 3.0]))
    (True, False)
    """
    values = column.to_numpy(dtype=float, na_value=np.nan)
    if len(values) < 2 or not np.isfinite(values).all() or (values != np.round(values)).any():
        return False
    return bool((np.diff(values) > 0).all())


def _check_target(frame: pd.DataFrame, target: str, path: str) -> None:
    """A numeric target must hold integer class labels (a real-valued target is regression)."""
    import pandas as pd

    labels = frame[target]
    if pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels):
        values = labels.dropna().to_numpy(dtype=float)
        fractional = np.flatnonzero(values != np.round(values))
        if len(fractional):
            raise ConfigError(f"stream.target={target!r}: column {target!r} of {path} holds non-integer numbers (e.g. "
                              f"{float(values[fractional[0]])!r}); the target must be class labels (integers or text)")


def load_table(
    path: str,
    target: str,
    features: list[str] | None = None,
    order: str | None = None,
    dropna: bool = False,
) -> Table:
    """The rows of ``path`` as a :class:`Table`: features = ``features`` or every numeric column but
    the target and ``order``; rows sorted by ``order`` (stable) or in file order; labels encoded over
    the whole file. Raises ConfigError for every problem, before anything is computed."""
    import pandas as pd

    frame = read_frame("stream.path", path)
    _column("stream.target", target, frame, path)
    if order is not None:
        _column("stream.order", order, frame, path)
    reserved = {target, order}
    _check_target(frame, target, path)
    if features is None:
        candidates = [c for c in frame.columns if c not in reserved]
        _check_numeric_looking(frame, candidates, path)
        numeric = [c for c in candidates if pd.api.types.is_numeric_dtype(frame[c])]
        index = [str(c) for c in numeric if _looks_like_an_index(frame[c])]
        if index:
            raise ConfigError(f"stream.features=null: column {index[0]!r} of {path} looks like a row index or a "
                              "time stamp (strictly "
                              "increasing integers), not a feature; name the features in stream.features (a column "
                              "named there is used as it is), or make it the order column (stream.order)")
        ignored = tuple(str(c) for c in candidates if c not in numeric)
        if not numeric:
            raise ConfigError(f"stream.features=null takes every numeric column of {path} but the target, and there "
                              f"is none (non-numeric: {list(ignored)}); encode them as numbers")
        features = numeric
    else:
        features, ignored = list(features), ()
        if not features:
            raise ConfigError("stream.features=[] is empty; name at least one column, or null for every numeric one")
        for name in features:
            _column("stream.features", name, frame, path)
            if name in reserved:
                raise ConfigError(f"stream.features has {name!r}, which is the target or order column")
        _check_numeric_looking(frame, features, path)
        text = [str(c) for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
        if text:
            raise ConfigError(f"stream.features has non-numeric columns {text} in {path}; features must be numbers "
                              "(encode them, or leave them out of stream.features)")
    used = frame[[*features, target, *([order] if order is not None else [])]]
    values = used[features].to_numpy(dtype=float, na_value=np.nan)
    _check_float32(values, features, path)
    bad = used.isna().to_numpy() | np.pad(~np.isfinite(values), ((0, 0), (0, used.shape[1] - len(features))))
    if pd.api.types.is_numeric_dtype(used[target]):  # an infinite label would become a class of its own
        column = list(used.columns).index(target)
        bad[:, column] |= ~np.isfinite(used[target].to_numpy(dtype=float, na_value=np.nan))
    rows = bad.any(axis=1)
    if rows.any() and not dropna:
        counts = {str(c): int(n) for c, n in zip(used.columns, bad.sum(axis=0)) if n}
        raise ConfigError(f"stream.path={path!r} has missing or infinite values in {int(rows.sum())} rows "
                          f"(per column: {counts}); clean the file or set stream.dropna=true to drop those rows")
    kept = used[~rows]
    if order is not None:
        kept = kept.sort_values(order, kind="stable")
    codes, classes = pd.factorize(kept[target], sort=True)
    return Table(
        X=kept[features].to_numpy(dtype=np.float64, copy=True),  # pandas' copy-on-write may hand out a read-only view
        y=codes.astype(np.int64),
        classes=tuple(classes.tolist()),
        features=tuple(str(c) for c in features),
        ignored=ignored,
        n_rows=len(frame),
        n_dropped=int(rows.sum()),
        sha256=file_sha256(Path(path).expanduser()),
        path=path,
        target=target,
        time=kept[order].to_numpy() if order is not None else None,
    )


def _check_float32(values: np.ndarray, features: list, path: str) -> None:
    """Features are served as float32: a value finite in float64 but beyond float32's range would
    become infinity in the model's input (and break every statistic downstream)."""
    limit = np.finfo(np.float32).max
    with np.errstate(invalid="ignore"):
        huge = np.isfinite(values) & (np.abs(values) > limit)
    if huge.any():
        columns = [str(features[j]) for j in np.flatnonzero(huge.any(axis=0))]
        raise ConfigError(f"stream.path={path!r} has values beyond float32's range (|x| > {limit:.4g}) in "
                          f"columns {columns} ({int(huge.sum())} cells); features are float32: rescale them")


def _classes_of(*, _parent_) -> int | None:
    """``${table_classes:}``, the config's default of ``stream.n_classes`` for a table: the number of
    classes in the stream's file, so that strategies read it as ``${stream.n_classes}``; None when the
    file cannot be read (the stream then refuses it with the reason)."""
    stream = _parent_
    features = stream.features
    try:
        features = None if features is None else list(features)
        table = load_table(stream.path, stream.target, features, stream.order, stream.dropna)
    except (ConfigError, TypeError):
        return None
    return len(table.classes)


def _sha256_of(*, _parent_) -> str | None:
    """``${table_sha256:}``, the config's default of ``stream.sha256`` for a table: the SHA-256 of the
    file's bytes, so that the resolved config (and with it ``config_sha256``, which decides whether a
    finished run is reused) changes when the file does; None when there is no file to read."""
    path = _parent_.path
    file = None if path is None else Path(path).expanduser()
    return file_sha256(file) if file is not None and file.is_file() else None


if not OmegaConf.has_resolver("table_classes"):
    OmegaConf.register_new_resolver("table_classes", _classes_of)
if not OmegaConf.has_resolver("table_sha256"):
    OmegaConf.register_new_resolver("table_sha256", _sha256_of)
