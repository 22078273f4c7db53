"""Writing and reading a run directory: every file atomically, ``result.json`` last, and the checks
that decide whether a directory holds a finished run of a given config."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.results.records import HEX64, mapping_of, parse_json, problems, seal_problem
from harness.validation.errors import RunDirectoryError

if TYPE_CHECKING:
    import pandas as pd  # imported where a table is read: the command line's start-up imports this module

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

RESULT = "result.json"
CONFIG_RECORD = ".hydra"  # a run's config record, where Hydra keeps it (its output_subdir): runs are found by it
LOCK = ".lock"
# The files whose SHA-256 result.json records: every table and the exported model (figures are
# drawings of the tables and may be redrawn).
CHECKED_SUFFIXES = (".csv", ".parquet", ".json", ".pt2")


@functools.cache
def not_in_fingerprint() -> frozenset[str]:
    """The keys that change what is printed, saved alongside or reused, never a number: left out of
    the fingerprint. Read from ``conf/config.yaml``'s ``hydra.job.config.override_dirname.exclude_keys``,
    which leaves the same keys out of a sweep's directory names, so the list is written once.

    >>> sorted(not_in_fingerprint())[:3]
    ['figures', 'offline.cache', 'offline.cache_dir']
    """
    from omegaconf import OmegaConf

    from harness.validation.config import CONF_DIR  # the config's location, known to the schemas

    conf = OmegaConf.load(CONF_DIR / "config.yaml")
    return frozenset(conf.hydra.job.config.override_dirname.exclude_keys)


TEMPORARY = re.compile(r"\..*\.\d+-[0-9a-f]{8}\.tmp(\.[^.]*)?", re.DOTALL)  # the names temporary_sibling gives


def temporary_sibling(path: Path) -> Path:
    """Where :func:`atomic_write` writes ``path`` before renaming it into place: hidden, named after
    ``path``, unique to this process.

    >>> bool(TEMPORARY.fullmatch(temporary_sibling(Path("run/result.json")).name))
    True
    """
    return path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}")


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary sibling of ``path`` (same suffix, a name unique to this
    process), then rename it into place, so that a killed run never leaves a half-written file under
    the final name and two processes writing the same file never share a temporary one."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def plain(value):
    """JSON-friendly: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, payload: dict) -> Path:
    text = json.dumps(plain(payload), indent=2, sort_keys=False) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def write_table(path: Path, frame) -> Path:
    """CSV or parquet by the file's suffix."""
    if Path(path).suffix == ".parquet":
        return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def config_fingerprint(config: dict) -> str:
    """SHA-256 of a resolved config (a plain dict) without the keys that change no number, and of
    the source of the user's code it names (:func:`user_code`): the same command after an edit of
    that code is another run.

    >>> config_fingerprint({"seed": 0, "quiet": True}) == config_fingerprint({"seed": 0, "quiet": False})
    True
    >>> config_fingerprint({"seed": 0}) == config_fingerprint({"seed": 1})
    False
    """
    kept = {key: value for key, value in _flatten(config).items() if key not in not_in_fingerprint()}
    code = user_code(config)
    if code:  # a config without user code keeps the fingerprint it always had
        kept["user_code"] = code
    return hashlib.sha256(json.dumps(plain(kept), sort_keys=True).encode()).hexdigest()


def user_code(config: dict) -> dict[str, str]:
    """``{module: SHA-256 of its source file}`` for every ``_target_`` in ``config`` whose module
    is the user's: not the harness's, not the standard library's, not an installed distribution's
    (their versions are in ``result.json``). A module that cannot be found maps to ``"missing"``."""
    code = {}
    for target in sorted(_targets(config)):
        module, origin = _module_of(target)
        top = module.split(".")[0]
        if top == "harness" or top in sys.stdlib_module_names or top in installed_packages():
            continue
        code[module] = file_sha256(origin) if origin and Path(origin).is_file() else "missing"
    return code


@functools.cache
def installed_packages() -> frozenset[str]:
    """The top-level names of the installed distributions. Listing them reads every distribution's
    file list (about a second); a run asks twice and a sweep twice per job, so a process lists them once."""
    return frozenset(importlib.metadata.packages_distributions())


def _targets(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["_target_"]} if isinstance(node.get("_target_"), str) else set()
        return found.union(*(_targets(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_targets(value) for value in node))
    return set()


def _module_of(target: str) -> tuple[str, str | None]:
    """The longest importable module prefix of ``target`` (``pkg.mod`` of ``pkg.mod.Class``) and its file."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            continue
        if spec is not None:
            return name, spec.origin
    return parts[0], None


def code_change(result: dict, config: dict) -> str:
    """Which of the user's source files the finished run in ``result`` read differ now, or ``""``."""
    recorded, now = result.get("user_code") or {}, user_code(config)
    changed = [module for module in sorted(set(recorded) | set(now)) if recorded.get(module) != now.get(module)]
    if not changed:
        return ""
    files = ", ".join(f"{module} ({_module_of(module)[1] or 'not found'})" for module in changed)
    return f" (the source of {files} changed since the run)"


def written_files(run_dir: Path, since_ns: int) -> dict[str, str]:
    """``{relative path: sha256}`` of the checked files under ``run_dir`` modified at or after ``since_ns``."""
    run_dir = Path(run_dir)
    return {
        str(path.relative_to(run_dir)): file_sha256(path)
        for path in sorted(run_dir.rglob("*"))
        if path.is_file()
        and path.suffix in CHECKED_SUFFIXES
        and path.name != RESULT
        and not path.name.startswith(".")
        and CONFIG_RECORD not in path.relative_to(run_dir).parts
        and path.stat().st_mtime_ns >= since_ns
    }


# What a finished (ok) and a failed result.json must hold for the harness to read it back.
OK_RESULT = {"status": str, "config": dict, "config_sha256": HEX64, "files": mapping_of(HEX64), "strategies": dict,
             "frozen_model": dict, "finished_at": str}
FAILED_RESULT = {"status": lambda value: value == "failed", "error_type": str, "message": str}


@dataclass
class RunState:
    """What a directory holds: ``missing`` (no result.json: unfinished or never run), ``corrupt``
    (result.json unreadable, or a file differs from its recorded SHA-256), ``failed``, ``ok``, or
    ``conflict`` (finished, but with another config than the one asked for)."""

    state: str
    message: str = ""
    result: dict | None = None


@contextlib.contextmanager
def job_lock(run_dir: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``run_dir`` (a ``.lock`` file in it) while the block runs; yields
    False at once, holding nothing, when another process holds it. The operating system releases the
    lock when its process dies, so a killed job never leaves a stale lock."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK, "a") as handle:
        if fcntl is None:  # no advisory locks on this platform: run unguarded
            yield True
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_for_lock(run_dir: Path) -> None:
    """Block until no process holds ``run_dir``'s lock."""
    path = Path(run_dir) / LOCK
    if fcntl is None or not path.exists():
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        fcntl.flock(handle, fcntl.LOCK_UN)


def read_result(run_dir: Path) -> dict | None:
    """The run's ``result.json``; None if there is none; a ``status: corrupt`` record if unreadable."""
    path = Path(run_dir) / RESULT
    if not path.is_file():
        return None
    try:
        result = parse_json(path.read_text())
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return {"status": "corrupt", "error_type": "corrupt", "message": f"{path} is unreadable: {error}"}
    if not isinstance(result, dict) or "status" not in result:
        return {"status": "corrupt", "error_type": "corrupt", "message": f"{path} is not a run record"}
    wrong = problems(result, OK_RESULT if result["status"] == "ok" else FAILED_RESULT)
    wrong = wrong or seal_problem(result, required=False)
    if wrong:
        return {"status": "corrupt", "error_type": "corrupt", "message": f"{path} is not a valid run record: {wrong}"}
    return result


def damaged_files(run_dir: Path, result: dict) -> list[str]:
    """The recorded files of a finished run that are missing or differ from their SHA-256."""
    damaged = []
    for name, sha in (result.get("files") or {}).items():
        path = Path(run_dir) / name
        if not path.is_file() or file_sha256(path) != sha:
            damaged.append(name)
    return damaged


def run_state(run_dir: Path, config: dict | None = None) -> RunState:
    """The state of ``run_dir``; given the resolved ``config`` asked for, a finished run of another
    config (by :func:`config_fingerprint`) is a ``conflict``."""
    result = read_result(run_dir)
    if result is None:
        return RunState("missing", f"{Path(run_dir) / RESULT} does not exist")
    status = result.get("status")
    if status == "corrupt":
        return RunState("corrupt", result["message"], result)
    if status != "ok":
        return RunState("failed", f"{result.get('error_type')}: {result.get('message')}", result)
    damaged = damaged_files(run_dir, result)
    if damaged:
        return RunState("corrupt", f"{run_dir}: {', '.join(damaged)} missing or changed since the run wrote it",
                        result)
    if config is not None and result.get("config_sha256") != config_fingerprint(config):
        difference = config_difference(result.get("config") or {}, config) or code_change(result, config)
        return RunState("conflict", f"{run_dir} holds a finished run of another config{difference}", result)
    model_file = model_file_change(result)
    if config is not None and model_file:
        return RunState("conflict", f"{run_dir} holds a finished run of {model_file}", result)
    return RunState("ok", "", result)


def model_file_change(result: dict) -> str:
    """For a run of a user's model (``model=pretrained``): ``""`` while the model file still holds
    what the run read, else what changed. The config names the file, not its content."""
    model = result.get("frozen_model") or {}
    if "file_sha256" not in model:
        return ""
    path = Path(model["file"])
    if not path.is_file():
        return f"the model file {path}, which no longer exists"
    if file_sha256(path) != model["file_sha256"]:
        return f"the model file {path} as it was before it changed (SHA-256 {model['file_sha256'][:12]}...)"
    return ""


def config_difference(recorded: dict, asked: dict | None = None) -> str:
    """`` (key: recorded -> asked, ...)`` for the first few keys that differ, or ``""``."""
    if asked is None:
        return ""
    flat_recorded, flat_asked = _flatten(recorded), _flatten(asked)
    keys = [k for k in sorted(set(flat_recorded) | set(flat_asked))
            if k not in not_in_fingerprint() and flat_recorded.get(k) != flat_asked.get(k)]
    if not keys:
        return ""
    shown = ", ".join(f"{k}: {flat_recorded.get(k)!r} -> {flat_asked.get(k)!r}" for k in keys[:4])
    return f" ({shown}{', ...' if len(keys) > 4 else ''})"


def _flatten(node, prefix: str = "") -> dict:
    if not isinstance(node, dict):
        return {prefix: node}
    flat = {}
    for key, value in node.items():
        flat.update(_flatten(value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}"))
    return flat


# -- reading a finished run back ------------------------------------------------------------------


@dataclass(eq=False, repr=False)
class RunResult:
    """A finished run's tables: ``summary`` (strategy x phase), ``windows`` (strategy x window),
    ``costs`` (one row per strategy), ``result`` (``result.json``); any other table of the run by
    :meth:`table`, the per-sample ``predictions`` on first use (they are the largest)."""

    output_dir: Path
    summary: pd.DataFrame
    windows: pd.DataFrame
    costs: pd.DataFrame
    result: dict

    def table(self, name: str) -> pd.DataFrame:
        """The run's table ``name`` (``predictions``, ``alarms``, ``estimates``, ...), read from its file."""
        recorded = {Path(path).stem: path for path in self.result["files"] if Path(path).suffix in (".csv", ".parquet")}
        if name not in recorded:
            raise KeyError(f"{self.output_dir} has no table {name!r}; it has {sorted(recorded)}")
        return read_table(Path(self.output_dir) / recorded[name])

    @property
    def predictions(self) -> pd.DataFrame:
        return self.table("predictions")

    def __repr__(self) -> str:
        return f"RunResult({str(self.output_dir)!r}, strategies={list(self.costs.strategy)})"


def read_table(path: Path) -> pd.DataFrame:
    """A table written by :func:`write_table`, by its suffix."""
    import pandas as pd

    return pd.read_parquet(path) if Path(path).suffix == ".parquet" else pd.read_csv(path)


def load_run(run_dir: Path | str) -> RunResult:
    """The finished run in ``run_dir`` as the :class:`RunResult` that ``harness.run_experiment``
    returns.

    A directory without a finished run is refused (``RunDirectoryError``): unfinished (no
    ``result.json``), failed (with the recorded error), or corrupt (a file changed since the run
    wrote it), as :func:`run_state` tells them apart.

    Parameters
    ----------
    run_dir : path-like
        A run directory, made by ``python -m harness.run`` or :func:`harness.run_experiment`.

    Returns
    -------
    RunResult
        ``.summary``, ``.windows``, ``.costs`` (the CSV files as DataFrames), ``.result``
        (``result.json``), ``.predictions`` (read on first use) and ``.table(name)``.

    Examples
    --------
    >>> import tempfile, harness
    >>> cfg = harness.compose(["strategy=[frozen]", "stream.n_offline=200", "stream.n_deploy=300", "drift.onset=150",
    ...                        "metrics.window=50", "offline.n_trials=1", "offline.max_epochs=2", "offline.cache=false",
    ...                        "monitor=off", "figures=false", "quiet=true"])
    >>> out = tempfile.mkdtemp() + "/run"
    >>> made = harness.run_experiment(cfg, out)
    >>> again = harness.load_run(out)
    >>> again.summary.equals(made.summary), len(again.predictions), sorted(again.result["strategies"])
    (True, 300, ['frozen'])
    >>> harness.load_run(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    harness.validation.errors.RunDirectoryError: ... holds no finished run: ...
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is not a directory")
    state = run_state(run_dir)
    if state.state == "missing":
        raise RunDirectoryError(f"{run_dir} holds no finished run: {state.message} (the run is unfinished, "
                                "or the directory is not a run's)")
    if state.state != "ok":
        raise RunDirectoryError(f"{run_dir} holds a {state.state} run: {state.message}")
    tables = {name: read_table(run_dir / f"{name}.csv") for name in ("summary", "windows", "costs")}
    return RunResult(run_dir, result=state.result, **tables)
