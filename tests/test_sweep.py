"""Real multiruns in a temporary directory: launchers agree, re-runs resume, failures are isolated."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.report import main as report_main
from harness.results.report import collect
from tests import preloaded

ROOT = Path(__file__).resolve().parents[1]
TINY = ["stream.n_offline=600", "stream.n_deploy=800", "drift.onset=300", "metrics.window=100",
        "offline.n_trials=2", "offline.max_epochs=10", "strategy=[frozen,river_logreg]", "quiet=true",
        "+hydra.callbacks.sweep.figures=[]"]  # the figures are tested in test_figures and test_studies
KEYS = ["drift.severity", "seed", "strategy", "phase"]


def multirun(sweep_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    return preloaded.run(
        [sys.executable, "-m", "harness.run", "-m", *TINY, *overrides, f"hydra.sweep.dir={sweep_dir}"],
        cwd=sweep_dir.parent, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def job_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(p.parent for p in sweep_dir.glob("*/.hydra"))


def numbers(sweep_dir: Path) -> pd.DataFrame:
    runs = collect([sweep_dir]).runs
    return runs.sort_values(KEYS)[KEYS + ["accuracy", "nll", "ece"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    sweep = tmp_path_factory.mktemp("basic") / "sweep"
    done = multirun(sweep, "drift.severity=0,1", "seed=0,1")
    assert done.returncode == 0, done.stderr
    return sweep, done


@pytest.mark.slow
def test_sweep_runs_every_cell_and_counts_them(basic):
    sweep, done = basic
    assert len(job_dirs(sweep)) == 4
    assert "sweep: 4 done, 0 skipped, 0 failed" in done.stderr
    for name in ("runs.parquet", "windows.parquet", "costs.parquet", "comparison_post.md", "comparison_post.tex"):
        assert (sweep / name).is_file(), name


def test_job_directories_are_named_by_their_overrides(basic):
    sweep, _ = basic
    names = {p.name for p in job_dirs(sweep)}
    assert any("drift.severity=1" in n and "seed=0" in n for n in names)
    assert not any("quiet" in n for n in names)  # keys that do not change numbers stay out


@pytest.mark.slow
def test_config_columns_match_each_runs_overrides(basic):
    sweep, _ = basic
    runs = pd.read_parquet(sweep / "runs.parquet")
    for run_dir, rows in runs.groupby("run"):
        overrides = dict(o.split("=", 1) for o in json.loads((Path(run_dir) / "result.json").read_text())["overrides"])
        assert float(overrides["drift.severity"]) == rows["drift.severity"].unique().item()
        assert int(overrides["seed"]) == rows["seed"].unique().item()
        assert int(overrides["stream.n_deploy"]) == rows["stream.n_deploy"].unique().item()


@pytest.mark.slow
def test_second_invocation_skips_everything(basic):
    sweep, _ = basic
    before = {p: (p / "result.json").stat().st_mtime_ns for p in job_dirs(sweep)}
    again = multirun(sweep, "drift.severity=0,1", "seed=0,1")
    assert again.returncode == 0
    assert "sweep: 0 done, 4 skipped, 0 failed" in again.stderr
    assert before == {p: (p / "result.json").stat().st_mtime_ns for p in job_dirs(sweep)}


def test_the_closing_report_is_the_report_of_the_same_runs_written_apart(basic, tmp_path):
    """The sweep's closing report, prepared by its own process while the jobs ran, holds what
    ``harness.report`` writes on the finished sweep: every table and comparison, file for file."""
    sweep, _ = basic
    assert report_main([str(sweep), "--out", str(tmp_path / "apart"), "--figures"]) == 0
    for name in ("runs", "windows", "costs", "confidence", "reliability"):
        pd.testing.assert_frame_equal(pd.read_parquet(sweep / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "apart" / f"{name}.parquet"))
    written = sorted(p.name for p in sweep.glob("comparison_*")) + ["runs_failed.csv"]
    assert len(written) == 10
    for name in written:
        assert (sweep / name).read_bytes() == (tmp_path / "apart" / name).read_bytes(), name


@pytest.mark.slow
def test_launchers_give_the_same_numbers(basic, tmp_path):
    reference = numbers(basic[0])
    for launcher in (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], ["hydra/launcher=submitit_local"]):
        sweep = tmp_path / launcher[0].split("=")[1]
        done = multirun(sweep, "drift.severity=0,1", "seed=0,1", *launcher)
        assert done.returncode == 0, done.stderr
        pd.testing.assert_frame_equal(numbers(sweep), reference)


@pytest.mark.slow
def test_unfinished_job_is_redone_and_a_grid_grows_by_its_new_cells(tmp_path):
    sweep = tmp_path / "sweep"
    assert multirun(sweep, "drift.severity=0,1").returncode == 0
    killed = next(p for p in job_dirs(sweep) if "drift.severity=1" in p.name)
    (killed / "result.json").unlink()
    (killed / "summary.csv").write_text("half-written")
    again = multirun(sweep, "drift.severity=0,0.5,1")
    assert "sweep: 2 done, 1 skipped, 0 failed" in again.stderr
    assert pd.read_csv(killed / "summary.csv")["accuracy"].notna().any()
    assert json.loads((killed / "result.json").read_text())["status"] == "ok"


@pytest.mark.slow
def test_a_job_whose_config_does_not_resolve_fails_with_the_key_not_a_traceback(tmp_path):
    """``~seed`` deletes what strategies' ``${seed}`` points at: a sweep's job finds out when it plans its
    directory, before any check of the run."""
    sweep = tmp_path / "sweep"
    done = multirun(sweep, "~seed=0", "strategy=[frozen,river_hat]")
    assert done.returncode == 1 and "sweep: 0 done, 0 skipped, 1 failed" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    [failed] = [path.parent for path in sweep.glob("*/result.json")]
    result = json.loads((failed / "result.json").read_text())
    assert result["status"] == "failed" and result["error_type"] == "ConfigError"
    assert result["message"] == "strategy.river_hat.model.seed cannot be resolved: Interpolation key 'seed' not found"


@pytest.mark.slow
def test_failing_job_is_recorded_and_its_siblings_finish(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    done = multirun(sweep, "drift.onset=200,400,5000")  # the last is beyond the stream: only its job can tell
    assert done.returncode != 0
    assert "sweep: 2 done, 0 skipped, 1 failed" in done.stderr
    failed = next(p for p in job_dirs(sweep) if "drift.onset=5000" in p.name)
    result = json.loads((failed / "result.json").read_text())
    assert result["status"] == "failed"
    assert result["error_type"] == "ConfigError"
    assert "drift.onset=5000 is outside [0, stream.n_deploy=800)" in result["message"]
    assert "Traceback" in result["traceback"]

    assert report_main([str(sweep), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert "2 runs read, 1 failed" in printed and "drift.onset=5000" in printed
    runs = pd.read_parquet(tmp_path / "report" / "runs.parquet")
    assert sorted(runs["drift.onset"].unique()) == [200, 400]
    failures = pd.read_csv(tmp_path / "report" / "runs_failed.csv")
    assert failures["error_type"].tolist() == ["ConfigError"]


@pytest.mark.slow
def test_preset_defines_its_own_grid_and_the_command_line_overrides_it(tmp_path):
    done = preloaded.run(
        [sys.executable, "-m", "harness.run", "experiment=quick_sweep", *TINY, "drift.kind=concept",
         "drift.severity=1", "seed=3", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    jobs = job_dirs(tmp_path / "sweep")
    assert len(jobs) == 1 and "seed=3" in json.loads((jobs[0] / "result.json").read_text())["overrides"]


@pytest.mark.slow
def test_rerun_forces_finished_jobs_again_in_the_same_directory(tmp_path):
    sweep = tmp_path / "sweep"
    assert multirun(sweep, "seed=0,1").returncode == 0
    names = {p.name for p in job_dirs(sweep)}
    again = multirun(sweep, "seed=0,1", "rerun=true")
    assert "sweep: 2 done, 0 skipped, 0 failed" in again.stderr
    assert {p.name for p in job_dirs(sweep)} == names  # rerun does not change where a job lives


@pytest.mark.slow
def test_figures_drawn_by_forked_copies_are_those_drawn_one_at_a_time(basic, tmp_path):
    """``harness.report`` draws its figures in forks of itself where that is safe (no torch
    loaded, no other thread): the files are those of drawing one at a time (torch loaded first)."""
    checked = subprocess.run([sys.executable, "-c", "import os; from harness.figures.study import forks_safely as f;"
                              " print(f()); cpus = os.sched_getaffinity(0); os.sched_setaffinity(0, {min(cpus)});"
                              " print(f()); os.sched_setaffinity(0, cpus); import torch; print(f())"],
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True)
    # a process held to one CPU (taskset, a container's quota) draws in itself, as one with torch loaded
    assert checked.stdout.split() == [str(len(os.sched_getaffinity(0)) > 1), "False", "False"]
    drawn = {}
    for way, first in (("forked", ""), ("serial", "import torch; ")):
        code = f"{first}import sys; from harness.report import main; sys.exit(main(sys.argv[1:]))"
        subprocess.run([sys.executable, "-c", code, str(basic[0]), "--out", str(tmp_path / way)], check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"},  # scikit-posthocs' diagram
                       capture_output=True)  # orders its bars by set iteration
        drawn[way] = {p.name: p.read_bytes() for p in sorted((tmp_path / way / "figures").glob("*.png"))}
    assert len(drawn["forked"]) > 2 and drawn["forked"] == drawn["serial"]
