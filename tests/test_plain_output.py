"""Output sent to a file (a batch log, ``> run.log``) is plain text: no progress-bar redraws
(carriage returns), no cursor movements (escape codes), and the results table on lines of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.pipeline.progress import Progress
from tests.conftest import TINY

SMALL = [o for o in TINY if o != "quiet=true"] + ["monitor=off", "figures=false", "offline.max_epochs=3"]


def command_output(tmp_path, *arguments) -> str:
    """stdout and stderr of ``python -m harness.run`` both sent to one file, as ``> run.log 2>&1`` does."""
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        done = subprocess.run([sys.executable, "-m", "harness.run", *arguments], stdout=out, stderr=out,
                              stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=240)
    text = log.read_text()
    assert done.returncode == 0, text
    return text


@pytest.mark.slow
def test_a_run_logged_to_a_file_has_no_bar_and_the_table_on_its_own_line(tmp_path):
    text = command_output(tmp_path, *SMALL, "strategy=[frozen,river_logreg]", f"hydra.run.dir={tmp_path / 'run'}")
    assert "\r" not in text and "\x1b[" not in text
    lines = text.splitlines()
    assert any(line.startswith("replay frozen: 1200 samples in ") for line in lines), text  # one line per stage
    assert any(line.startswith("replay river_logreg: 1200 samples in ") for line in lines), text
    header = [line for line in lines if "acc pre" in line]
    assert len(header) == 1 and header[0].split()[0] == "strategy", text  # not glued to a progress line


@pytest.mark.slow
def test_a_sweep_logged_to_a_file_has_no_bar_and_a_line_per_finished_job(tmp_path):
    text = command_output(tmp_path, "-m", *SMALL, "strategy=[frozen]", "drift.severity=0,1",
                          f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert "\r" not in text and "\x1b[" not in text
    assert "sweep: 2/2 jobs finished (0 failed, 0 skipped)" in text.splitlines(), text


def test_on_a_terminal_less_stream_progress_prints_whole_lines(capsys):
    bar = Progress(30, "sample")
    bar.stage("replay a")
    bar.update(10)
    bar.update(20)
    bar.end_stage()
    bar.close()
    err = capsys.readouterr().err
    assert err.startswith("replay a: 30 samples in ") and err.endswith(" s\n") and "\r" not in err


def test_disabled_progress_prints_nothing(capsys):
    bar = Progress(5, "sample", enabled=False)
    bar.stage("replay a")
    bar.update(5)
    bar.end_stage()
    bar.close()
    assert capsys.readouterr().err == ""
