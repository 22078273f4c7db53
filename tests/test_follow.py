"""The closing report's process (harness.results.follow): what it reads while a sweep runs is what the
report would read at the end, a run changed since is read again, and only ``close`` writes."""

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

import harness
from harness.pipeline.sweep import LEDGER_ENV, SweepCallback, record_outcome
from harness.results import follow
from harness.results.report import TABLES, collect, find_run_dirs, read_one
from tests.conftest import TINY

SMALL = [*TINY[:4], "offline.n_trials=1", "offline.max_epochs=5", "strategy=[frozen,river_logreg]", "monitor=off",
         "figures=false", "quiet=true"]  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A sweep directory holding two finished runs (seeds 0 and 1), as a sweep leaves them."""
    sweep = tmp_path_factory.mktemp("follow") / "sweep"
    for seed in (0, 1):
        harness.run_experiment(harness.compose([*SMALL, f"seed={seed}"]), sweep / f"seed={seed}")
    return sweep


@pytest.fixture
def sweep(finished, tmp_path):
    """A copy of the finished sweep that a test may change."""
    copy = tmp_path / "sweep"
    shutil.copytree(finished, copy)
    return copy


def commands(text: str | None):
    """The read end of a pipe holding ``text`` (None: closed with nothing written), as the sweep's
    process would have written into the follower's standard input."""
    read, write = os.pipe()
    if text:
        os.write(write, text.encode())
    os.close(write)
    return os.fdopen(read)


def ledger_entry(ledger: Path, job_dir: Path | str, state: str) -> None:
    ledger.mkdir(exist_ok=True)
    name = f"{abs(hash(str(job_dir)))}.json"
    (ledger / name).write_text(json.dumps({"job_dir": str(job_dir), "state": state, "message": ""}))


def test_a_run_is_read_once_and_again_when_one_of_its_files_changed(sweep):
    run_dir = find_run_dirs([sweep])[0]
    memo: dict = {}
    first = follow.recall(run_dir, memo)
    assert first[0] == "ok"
    assert follow.recall(run_dir, memo) is first  # nothing changed: what was read
    with open(run_dir / "windows.csv", "a") as table:
        table.write("\n")
    changed = follow.recall(run_dir, memo)
    assert changed == read_one(run_dir) and changed[0] == "failed" and changed[1]["error_type"] == "corrupt"


def test_runs_the_ledger_records_as_done_are_read_under_the_paths_the_report_finds(sweep, tmp_path, monkeypatch):
    monkeypatch.chdir(sweep.parent)
    sweep, ledger = Path(sweep.name), tmp_path / "ledger"  # the sweep named as on a command line, relative
    done, failed = find_run_dirs([sweep])
    ledger_entry(ledger, done.resolve(), "done")  # jobs record absolute paths
    ledger_entry(ledger, failed.resolve(), "failed")
    ledger_entry(ledger, tmp_path / "elsewhere", "done")  # not below the sweep: left to the close
    (ledger / "torn.json").write_text("{")
    memo: dict = {}
    follow.read_finished(sweep, ledger, memo, set())
    assert list(memo) == [done]
    assert memo[done][1][1]["runs"]["run"].iloc[0] == str(done)


@pytest.mark.parametrize("said", ["quit\n", None, "closing\n"])
def test_anything_but_close_ends_it_writing_nothing(sweep, said):
    before = sorted(sweep.rglob("*"))
    assert follow.follow(sweep, sweep / ".ledger-x", [], commands=commands(said)) is False
    assert sorted(sweep.rglob("*")) == before


def test_close_writes_the_report_the_runs_give_read_while_the_sweep_ran_or_not(sweep, tmp_path):
    ledger = tmp_path / "ledger"
    first = find_run_dirs([sweep])[0]
    ledger_entry(ledger, first.resolve(), "done")
    assert follow.follow(sweep, ledger, [], commands=commands("close\n")) is True
    expected = collect([sweep])
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(sweep / f"{name}.parquet"), getattr(expected, name))
    assert len(expected.runs["run"].unique()) == 2


def test_main_says_what_failed_without_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", commands("close\n"))
    (tmp_path / "sweep").write_text("a file where the sweep directory should be")
    assert follow.main([str(tmp_path / "sweep"), str(tmp_path / "ledger"), "[]"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the sweep's closing report failed: ") and "Traceback" not in err


def sweep_config(sweep: Path):
    """The part of a sweep's config the sweep callback reads."""
    return OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}, "sweeper": {}, "overrides": {"task": []}}})


@pytest.mark.parametrize("died", [False, True], ids=["alive", "died"])
def test_the_sweep_ends_with_the_report_written_by_its_process_or_if_that_died_by_itself(sweep, capsys, died):
    callback = SweepCallback(update_reference=False, progress=False, figures=[])
    config = sweep_config(sweep)
    callback.on_multirun_start(config)
    process = callback._report
    assert process is not None and process.poll() is None
    if died:
        process.kill()
        process.wait()
    for run_dir in find_run_dirs([sweep]):
        record_outcome(run_dir, "done")
    callback.on_multirun_end(config)
    assert process.poll() is not None and ("note: the report's process ended early" in capsys.readouterr().err) == died
    pd.testing.assert_frame_equal(pd.read_parquet(sweep / "runs.parquet"), collect([sweep]).runs)
    assert not list(sweep.glob(".ledger-*")) and LEDGER_ENV not in os.environ


@pytest.mark.parametrize("text", ['["nope"]', "nan", "-1", "{}", "[1]", '"severity_boxes"', "[", "1e999"])
def test_a_figures_argument_that_is_no_list_of_figures_is_refused_before_anything_runs(text, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        follow.main([str(tmp_path / "sweep"), str(tmp_path / "ledger"), text])
    assert exit_.value.code == 2 and "is not null or a JSON list of figures" in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()


def test_the_figures_argument_takes_null_none_or_figures():
    assert follow.figure_list("null") is None
    assert follow.figure_list("[]") == []
    assert follow.figure_list('["severity_boxes", "reliability"]') == ["severity_boxes", "reliability"]
