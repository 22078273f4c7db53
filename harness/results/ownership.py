"""Where the harness may write: a directory that does not exist yet, an empty one, or one holding
what the harness itself wrote there before (a run, a sweep, a report), recognised by its records.
Everything else belongs to the user and is refused before anything is created in it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.results.records import LEDGER_PREFIX
from harness.results.store import CONFIG_RECORD, LOCK, RESULT, TEMPORARY
from harness.validation.errors import RunDirectoryError
from harness.validation.validate import PROBE_PREFIX, directory_problem

RUN_RECORDS = (CONFIG_RECORD, RESULT)  # a run directory: its config record or its result
REPORT_RECORD = "report.json"  # written first by harness.results.report into the directory it writes
REPORT_TABLE = "runs.parquet"  # a report's main table: how a report from before report.json is recognised
SWEEP_RECORD = "multirun.yaml"  # Hydra's record of a sweep in its directory


def usable(path: Path, label: str) -> None:
    """``path`` is a directory the harness can create or write (:func:`harness.validation.validate.directory_problem`);
    RunDirectoryError starting with ``label`` (how the user gave the path) otherwise."""
    problem = directory_problem(Path(path))
    if problem:
        raise RunDirectoryError(f"{label} {problem}")


def transient(name: str) -> bool:
    """Whether ``name`` is something the harness keeps in a directory only while it works there, which
    another process may see at any moment: a job's lock (made before it knows whether it runs), a
    sweep's ledger, the probe that checks a directory can be written, a file being written atomically.

    >>> [transient(n) for n in (".lock", ".harness-probe-x1y2", ".ledger-12-0a1b2c3d", "notes.txt")]
    [True, True, True, False]
    """
    return name == LOCK or name.startswith((PROBE_PREFIX, LEDGER_PREFIX)) or bool(TEMPORARY.fullmatch(name))


def holds_run(path: Path) -> bool:
    """Whether ``path`` holds a run's records."""
    return any((Path(path) / name).exists() for name in RUN_RECORDS)


def _harness_made(entry: Path) -> bool:
    """Whether ``entry`` of a directory of runs is something the harness writes there: a run, or a
    report's table, comparison, figure folder or record (a user's own file is none of these)."""
    name = entry.name
    return ((entry.is_dir() and holds_run(entry)) or name in (REPORT_RECORD, "figures", "runs_failed.csv")
            or name.startswith("comparison_") or (name.endswith(".parquet") and "_" not in name))


def check_owned(path: Path, label: str, *, owner: str = "run's", ours: Iterable[str] = (),
                sweep: bool = False) -> None:
    """``path`` may be written by the harness: :func:`usable`, and new, empty (but for :func:`transient`
    names and the ``ours`` names this invocation made), or holding a run's records, a report's record,
    or, with ``sweep``, only runs in its subdirectories and what a report writes beside them.
    RunDirectoryError starting with ``label`` and naming what is there otherwise (``owner``: whose
    files would be expected); nothing is created but :func:`usable`'s probe, removed at once."""
    path = Path(path)
    usable(path, label)
    if not path.is_dir():
        return
    ours = set(ours)
    entries = sorted(entry.name for entry in path.iterdir() if entry.name not in ours and not transient(entry.name))
    if not entries or holds_run(path) or any((path / name).exists() for name in (REPORT_RECORD, REPORT_TABLE)):
        return
    if sweep and ((path / SWEEP_RECORD).is_file() or all(_harness_made(path / name) for name in entries)):
        return
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise RunDirectoryError(f"{label} holds files that are no {owner} ({shown}); choose a new or empty directory")
