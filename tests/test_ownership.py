"""A run, a sweep or a report writes only into a new or empty directory or one holding what the
harness wrote there before; a directory of the user's, a file, a dangling link or a link loop is
refused with ``error: ...`` and exit code 2, and left exactly as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness import report as report_cli
from harness.results.ownership import check_owned
from harness.results.records import LEDGER_PREFIX
from harness.results.store import atomic_write, temporary_sibling
from harness.validation.errors import RunDirectoryError
from harness.validation.validate import directory_problem
from tests import preloaded
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]


def harness_command(*args: str) -> subprocess.CompletedProcess:
    return preloaded.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})


def contents(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def users_folder(tmp_path) -> Path:
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("key, extra", [("hydra.run.dir", []), ("hydra.sweep.dir", ["-m", "seed=0,1"])])
def test_the_command_line_never_writes_into_a_users_folder(users_folder, key, extra):
    before = contents(users_folder)
    done = harness_command("-m", "harness.run", *extra, *TINY, f"{key}={users_folder}")
    assert done.returncode == 2, done.stderr[-2000:]
    owner = "sweep's" if key == "hydra.sweep.dir" else "run's"
    assert f"error: {key}={users_folder} holds files that are no {owner} (notes.txt, sub)" in done.stderr
    assert "Traceback" not in done.stderr
    assert contents(users_folder) == before and sorted(p.name for p in users_folder.iterdir()) == ["notes.txt", "sub"]


@pytest.mark.slow
def test_a_link_loop_as_the_run_directory_is_refused_cleanly(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    done = harness_command("-m", "harness.run", *TINY, f"hydra.run.dir={loop}")
    assert done.returncode == 2 and f"error: hydra.run.dir='{loop}'" in done.stderr
    assert "a symbolic link that leads nowhere (dangling or looping)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("x") and None, "is a file: it must be a writable directory"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "a symbolic link that leads nowhere"),
    (lambda p: (p.parent / "f").write_text("x") and p.parent / "f" / "run", "which cannot hold it"),
])
def test_paths_that_cannot_be_a_directory_are_refused(tmp_path, make, message):
    path = tmp_path / "out"
    path = make(path) or path
    with pytest.raises(RunDirectoryError, match=message):
        check_owned(path, str(path))


def test_new_empty_run_and_report_directories_are_accepted(tmp_path):
    check_owned(tmp_path / "new" / "deeper", "x")
    (tmp_path / "empty").mkdir()
    check_owned(tmp_path / "empty", "x")
    for record in (".hydra", "result.json", "report.json"):
        folder = tmp_path / record.replace(".", "_")
        folder.mkdir()
        (folder / record).write_text("{}")
        (folder / "notes.txt").write_text("x")
        check_owned(folder, "x")
    (tmp_path / "sweep" / "job").mkdir(parents=True)
    (tmp_path / "sweep" / "job" / "result.json").write_text("{}")
    (tmp_path / "sweep" / "multirun.yaml").write_text("x")
    check_owned(tmp_path / "sweep", "x", sweep=True)
    with pytest.raises(RunDirectoryError, match="no run's"):
        check_owned(tmp_path / "sweep", "x")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    import harness
    from tests.conftest import compose_config

    out = tmp_path_factory.mktemp("run")
    harness.run_experiment(compose_config(["strategy=[frozen]", "monitor.enabled=false", "figures=false"]), out)
    return out


@pytest.mark.slow
def test_a_report_never_writes_into_a_users_folder(finished_run, users_folder, capsys):
    before = contents(users_folder)
    with pytest.raises(SystemExit) as exited:
        report_cli.main([str(finished_run), "--out", str(users_folder), "--figures"])
    assert exited.value.code == 2
    assert f"--out {users_folder} holds files that are no run's or report's (notes.txt, sub)" in capsys.readouterr().err
    assert contents(users_folder) == before


@pytest.mark.slow
def test_a_report_writes_its_record_and_may_write_there_again(finished_run, tmp_path):
    out = tmp_path / "report"
    assert report_cli.main([str(finished_run), "--out", str(out), "--figures"]) == 0
    assert (out / "report.json").is_file() and (out / "runs.parquet").is_file()
    assert report_cli.main([str(finished_run), "--out", str(out), "--figures"]) == 0


@pytest.mark.slow
def test_a_report_into_a_folder_of_runs_and_the_users_files_is_refused(finished_run, tmp_path, capsys):
    """A folder holding a run beside the user's own files is not a sweep: the report is refused there,
    and accepted in a folder that holds only runs."""
    import shutil

    mixed = tmp_path / "home"
    shutil.copytree(finished_run, mixed / "run")
    (mixed / "notes.txt").write_text("mine\n")
    before = contents(mixed)
    with pytest.raises(SystemExit) as exited:
        report_cli.main([str(mixed / "run"), "--out", str(mixed), "--figures"])
    assert exited.value.code == 2 and "holds files that are no run's or report's (notes.txt, run)" in capsys.readouterr().err
    assert contents(mixed) == before
    (mixed / "notes.txt").unlink()
    assert report_cli.main([str(mixed / "run"), "--out", str(mixed), "--figures"]) == 0


def test_a_directory_another_process_is_probing_or_writing_into_is_not_refused(tmp_path):
    """What the harness keeps in a directory only while it works there is no user's file: another
    process checking the same job directory (its probe directory, made and removed at once), writing
    a report atomically (the temporary sibling of report.json) or keeping a sweep's ledger."""
    job = tmp_path / "job"
    job.mkdir()
    stop = threading.Event()

    class Stopped(Exception):
        pass

    def half_write(tmp: Path):  # the temporary file is there; the final name never comes
        tmp.write_text("{}")
        raise Stopped

    rounds: list[int] = []

    def probe_and_write():  # what a second process does to the same directory, over and over
        while not stop.is_set():
            assert directory_problem(job) == ""
            with pytest.raises(Stopped):
                atomic_write(job / "report.json", half_write)
            rounds.append(1)

    other = threading.Thread(target=probe_and_write)
    other.start()
    try:
        for _ in range(3000):
            check_owned(job, "x")
    finally:
        stop.set()
        other.join()
    assert len(rounds) > 100  # the other side kept probing and writing all along
    (job / f"{LEDGER_PREFIX}1-0a1b2c3d").mkdir()  # a sweep that has not written multirun.yaml yet
    check_owned(job, "x", sweep=True)


@given(st.text(st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=30)
       .filter(lambda name: name not in (".", "..")))
@example(".lock")
@example(".ledger-7-0a1b2c3d")
@example(".harness-probe-k2j4")
@example("notes.txt")
@example(".hydra")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_only_the_harness_own_passing_names_are_overlooked(tmp_path, name):
    """Any name is a user's file that refuses the directory unless it is a run's or a report's record,
    or one the harness makes while it works (a file written atomically under that name included)."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        (folder / name).write_text("x")
    except OSError:  # a name this file system refuses (too long for it)
        return
    records = {".hydra", "result.json", "report.json", "runs.parquet"}
    ours = name in records or name == ".lock" or name.startswith((".harness-probe-", ".ledger-"))
    if ours:
        check_owned(folder, "x")
    else:
        with pytest.raises(RunDirectoryError, match="holds files that are no run's"):
            check_owned(folder, "x")
    (folder / name).unlink()
    temporary = temporary_sibling(folder / name)
    temporary.write_text("x")  # the same name, while it is written atomically
    check_owned(folder, "x")
