"""Results you can trust: nothing lost, nothing mislabelled, nothing counted twice or hidden, through
the real command line."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.results.report import collect
from harness.run import run
from tests import preloaded
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[1]
TINY = ["stream.n_offline=400", "stream.n_deploy=600", "drift.onset=300", "metrics.window=100",
        "offline.n_trials=1", "offline.max_epochs=5", "strategy=[frozen,river_logreg]", "quiet=true"]
NO_FIGURES = ["figures=false", "+hydra.callbacks.sweep.figures=[]"]  # what these tests check is in the tables


def cli(*args: str, cwd: Path, module: str = "harness.run") -> subprocess.CompletedProcess:
    if module == "harness.run" and not any("sweep.figures" in arg for arg in args):
        args = (*args, *NO_FIGURES)
    return preloaded.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)


def snapshot(root: Path) -> dict:
    """Every file under ``root`` with its bytes."""
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def job_dirs(sweep: Path) -> list[Path]:
    return sorted(p.parent for p in sweep.rglob(".hydra"))


# -- 1. a refused run touches nothing ---------------------------------------------------------


@pytest.mark.slow
def test_a_refused_run_in_an_existing_directory_leaves_it_as_it_was(tmp_path):
    home = tmp_path / "x" / "p"
    home.mkdir(parents=True)
    (home / "a").write_text("keep")
    done = cli("drift.severity=1.7", "hydra.run.dir=.", cwd=home)
    assert done.returncode == 2 and "error: drift.severity=1.7 is outside [0, 1]" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in home.iterdir()) == ["a"] and (home / "a").read_text() == "keep"


@pytest.mark.slow
def test_a_refused_run_creates_no_directory(tmp_path):
    done = cli("drift.severity=1.7", f"hydra.run.dir={tmp_path / 'new' / 'run'}", cwd=tmp_path)
    assert done.returncode == 2 and not (tmp_path / "new").exists()


# -- 2. a finished run is reused only for the config that produced it ------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished single run of drift.severity=1, made through the command line."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    done = cli(*TINY, "drift.severity=1", f"hydra.run.dir={run_dir}", cwd=run_dir.parent)
    assert done.returncode == 0, done.stderr
    return run_dir, done


def test_quiet_still_says_where_the_results_are(finished):
    run_dir, done = finished
    assert f"results: {run_dir}" in done.stdout


def test_the_command_lines_run_records_its_config_as_hydra_would(finished):
    """``.hydra/``, written by the harness once the job runs (Hydra's own writing is off): the job's
    config, Hydra's config and the command line's overrides."""
    from omegaconf import OmegaConf

    run_dir, _ = finished
    config, hydra = (OmegaConf.load(run_dir / ".hydra" / name) for name in ("config.yaml", "hydra.yaml"))
    overrides = OmegaConf.load(run_dir / ".hydra" / "overrides.yaml")
    assert config.drift.severity == 1 and "hydra" not in config
    assert hydra.hydra.run.dir == str(run_dir) and hydra.hydra.job.config_name == "config"
    assert "drift.severity=1" in overrides and list(hydra.hydra.overrides.task) == list(overrides)


@pytest.mark.slow
def test_a_finished_run_of_another_config_is_refused_and_left_untouched(finished):
    run_dir, _ = finished
    before = snapshot(run_dir)
    done = cli(*TINY, "drift.severity=0.3", f"hydra.run.dir={run_dir}", cwd=run_dir.parent)
    assert done.returncode == 2
    assert "holds a finished run of another config (drift.severity: 1.0 -> 0.3)" in done.stderr
    assert "rerun=true" in done.stderr
    after = snapshot(run_dir)
    assert {p: b for p, b in after.items() if p.name != "run.log"} == {p: b for p, b in before.items()
                                                                        if p.name != "run.log"}
    runs = collect([run_dir]).runs
    assert runs["drift.severity"].unique().tolist() == [1.0]


@pytest.mark.slow
def test_a_finished_run_of_the_same_config_is_skipped(finished):
    run_dir, _ = finished
    stamp = (run_dir / "result.json").stat().st_mtime_ns
    done = cli(*TINY, "drift.severity=1", "quiet=false", f"hydra.run.dir={run_dir}", cwd=run_dir.parent)
    assert done.returncode == 0 and "skipped" in done.stdout + done.stderr
    assert (run_dir / "result.json").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_a_finished_table_run_is_reused_only_for_the_file_content_it_read(tmp_path):
    """The same command after the CSV is edited in place is refused as another config (the file's
    SHA-256 is part of it), not skipped as finished; untouched, the file's run is skipped."""
    from tests.test_table_stream import table_overrides, write_csv

    data, run_dir = tmp_path / "data.csv", tmp_path / "run"
    write_csv(data)
    command = [*table_overrides(data), "strategy=[river_logreg]", "offline.n_trials=1", "monitor.enabled=false",
               f"hydra.run.dir={run_dir}"]
    assert cli(*command, cwd=tmp_path).returncode == 0
    stamp = (run_dir / "result.json").stat().st_mtime_ns
    again = cli(*command, "quiet=false", cwd=tmp_path)
    assert again.returncode == 0 and "skipped" in again.stdout + again.stderr
    recorded = json.loads((run_dir / "result.json").read_text())["config"]["stream"]["sha256"]
    lines = data.read_text().splitlines()
    lines[700] = lines[700].replace("spam", "ham") if "spam" in lines[700] else lines[700].replace("ham", "spam")
    data.write_text("\n".join(lines) + "\n")  # one label of a deployment row, edited in place
    edited = cli(*command, cwd=tmp_path)
    assert edited.returncode == 2 and "skipped" not in edited.stdout + edited.stderr
    assert f"holds a finished run of another config (stream.sha256: {recorded!r} -> " in edited.stderr
    assert "rerun=true" in edited.stderr and (run_dir / "result.json").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_the_report_labels_each_run_by_the_config_it_recorded(tmp_path):
    """Even when .hydra/ says otherwise (an older harness let a later invocation rewrite it)."""
    out = tmp_path / "run"
    run(compose_config(["strategy=[frozen]", "drift.severity=0.5"]), out)
    (out / ".hydra").mkdir()
    (out / ".hydra" / "config.yaml").write_text("drift:\n  severity: 0.3\n")
    (out / ".hydra" / "overrides.yaml").write_text("- drift.severity=0.3\n")
    assert collect([out]).runs["drift.severity"].unique().tolist() == [0.5]


# -- 3, 4. failures and corrupt files are never hidden -------------------------------------------


@pytest.mark.slow
def test_corrupt_files_are_listed_as_failed_then_redone(tmp_path):
    sweep = tmp_path / "sweep"
    assert cli("-m", *TINY, "seed=0,1,2", f"hydra.sweep.dir={sweep}", cwd=tmp_path).returncode == 0
    truncated_result, truncated_summary, deleted = job_dirs(sweep)
    text = (truncated_result / "result.json").read_text()
    (truncated_result / "result.json").write_text(text[: len(text) // 2])
    text = (truncated_summary / "summary.csv").read_text()
    (truncated_summary / "summary.csv").write_text(text[: len(text) // 2])
    (deleted / "summary.csv").unlink()

    collection = collect([sweep])
    assert collection.runs.empty
    assert sorted(f["error_type"] for f in collection.failed) == ["corrupt"] * 3
    assert any("summary.csv missing or changed" in f["message"] for f in collection.failed)

    again = cli("-m", *TINY, "seed=0,1,2", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "sweep: 3 done, 0 skipped, 0 failed" in again.stderr
    assert collect([sweep]).runs["seed"].nunique() == 3


@pytest.mark.slow
def test_a_sweep_whose_closing_report_fails_exits_non_zero(tmp_path):
    sweep = tmp_path / "sweep"
    (sweep / "runs.parquet").mkdir(parents=True)  # the report cannot write its table there
    done = cli("-m", *TINY, "seed=0", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode == 1
    assert "error: the sweep's closing step failed" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_failed_cell_and_a_deleted_table_give_exit_one_and_the_table_is_redone(tmp_path):
    sweep = tmp_path / "sweep"
    grid = "drift.onset=200,400,5000"  # the last is beyond the stream: only its job can tell
    first = cli("-m", *TINY, grid, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert first.returncode == 1 and "sweep: 2 done, 0 skipped, 1 failed" in first.stderr
    ok = next(p for p in job_dirs(sweep) if "drift.onset=200," in p.name)
    (ok / "summary.csv").unlink()
    again = cli("-m", *TINY, grid, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert again.returncode == 1
    assert "sweep: 1 done, 1 skipped, 1 failed" in again.stderr  # the failing cell fails again
    assert (ok / "summary.csv").is_file()


# -- 5. concurrent sweeps into one directory run each job once -------------------------------------


@pytest.mark.slow
def test_two_concurrent_sweeps_run_each_job_once(tmp_path):
    sweep = tmp_path / "sweep"
    args = [sys.executable, "-m", "harness.run", "-m", *TINY, "seed=0,1,2,3", f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    second = subprocess.Popen(args, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    errors = [process.communicate(timeout=600)[1] for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], errors
    closing = [next(line for line in err.splitlines() if line.startswith("sweep: ")) for err in errors]
    assert sum(int(line.split()[1]) for line in closing) == 4, closing  # "sweep: <n> done, ..."
    assert all(" 0 failed" in line and "unfinished" not in line for line in closing), closing
    assert [json.loads((d / "result.json").read_text())["status"] for d in job_dirs(sweep)] == ["ok"] * 4
    assert collect([sweep]).runs["seed"].nunique() == 4
    assert not list(sweep.rglob("*.tmp*"))


@pytest.mark.slow
def test_an_interrupted_run_says_so_without_a_traceback_and_leaves_it_unfinished(tmp_path):
    """Ctrl-C during the replay: exit code 130, one line on stderr, no result.json, no replay
    outputs left on disk."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "harness.run", *TINY[:-1], "stream.n_deploy=400000", "replay.chunk=1000",
            "strategy=[finetune]", "monitor=off", f"hydra.run.dir={out}"]
    run_ = subprocess.Popen(args, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stderr=subprocess.PIPE, text=True,
                            # as a terminal's Ctrl-C finds it, even when the tests run in the background
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not list(out.glob(".replay-*")) and time.monotonic() < deadline and run_.poll() is None:
        time.sleep(0.05)
    run_.send_signal(signal.SIGINT)
    err = run_.communicate(timeout=120)[1]
    assert run_.returncode == 130, err
    assert "Traceback" not in err and "interrupted: " in err, err
    assert not (out / "result.json").exists() and not list(out.glob(".replay-*"))


# -- 6. job directories are bounded and stay inside the sweep ---------------------------------------


@pytest.mark.slow
def test_job_directories_are_bounded_readable_and_inside_the_sweep(tmp_path):
    sweep = tmp_path / "a" / "b" / "sweep"
    many = [
        "metrics.confidence_threshold=0.9", "metrics.recovery_tolerance=0.02", "metrics.max_detection_delay=1000",
        "replay.label_delay=0", "replay.label_fraction=1.0", "offline.patience=5", "model.depth=2",
        "threads=1", "save_stream=true"]
    done = cli("-m", *TINY, *many, "seed=0,1", "+tag=../../../escaped", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "a" / "escaped").exists()
    jobs = job_dirs(sweep)
    assert len(jobs) == 2, done.stderr
    for job in jobs:
        assert job.parent == sweep and len(job.name.encode()) <= 200
        assert "save_stream" not in job.name and job.name.startswith("+tag=..%2F..%2F..%2Fescaped,")


# -- 11. the control has a post phase; studies keep the tracked reference figures ------------------


@pytest.mark.slow
def test_the_no_drift_control_has_pre_and_post_rows_and_no_empty_ones(tmp_path):
    outcome = run(compose_config(["drift=none", "strategy=[frozen]"]), tmp_path)
    summary = outcome.summary.set_index("phase")
    assert summary.loc["pre", "n"] == 500 and summary.loc["post", "n"] == 700
    assert not summary[["accuracy", "ece", "brier", "nll"]].isna().any().any()
    assert math.isfinite(outcome.result["strategies"]["frozen"]["drift_induced_error"])


@pytest.mark.slow
def test_a_sweep_copies_reference_figures_only_when_asked(tmp_path):
    reference = tmp_path / "reference"
    common = [*TINY, "seed=0", "+hydra.callbacks.sweep.figures=[accuracy_over_time]",
              "+hydra.callbacks.sweep.reference=[accuracy_over_time]", f"+hydra.callbacks.sweep.reference_dir={reference}"]
    assert cli("-m", *common, f"hydra.sweep.dir={tmp_path / 'plain'}", cwd=tmp_path).returncode == 0
    assert not reference.exists()
    asked = cli("-m", *common, "hydra.callbacks.sweep.update_reference=true", f"hydra.sweep.dir={tmp_path / 'asked'}",
                cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert (reference / "asked" / "accuracy_over_time.png").is_file()
