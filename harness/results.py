"""Writing a run directory: every file atomically, ``result.json`` last."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULT = "result.json"


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary sibling of ``path`` (same suffix), then rename it into place,
    so that a killed run never leaves a half-written file under the final name."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)
    return path


def _plain(value):
    """JSON-friendly: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, payload: dict) -> Path:
    text = json.dumps(_plain(payload), indent=2, sort_keys=False) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def write_table(path: Path, frame) -> Path:
    """CSV or parquet by the file's suffix."""
    if Path(path).suffix == ".parquet":
        return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def read_result(run_dir: Path) -> dict | None:
    """The run's ``result.json``, or None for an unfinished run."""
    path = Path(run_dir) / RESULT
    return json.loads(path.read_text()) if path.is_file() else None


def finished_ok(run_dir: Path) -> bool:
    result = read_result(run_dir)
    return result is not None and result.get("status") == "ok"
