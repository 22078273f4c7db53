"""Every process that runs jobs or writes a report ends without the interpreter's last garbage
collections (``harness.skip_final_collection``): the command line, the workers of joblib and Ray
(which import ``harness.pipeline.jobs``, not ``harness.run``: they receive the task by value), the
sweep's report process and ``harness.report``. Each is checked in a fresh process (a process's end is
the point), by an object in a reference cycle whose finaliser writes a mark: collected at exit, the
mark appears; left frozen, it does not (automatic collections are off until then)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CYCLE = """
import gc, os
gc.disable()  # no collection before the end: only the interpreter's last ones can find the cycle
class Marked:
    def __del__(self):
        os.write(1, b"collected")
marked = Marked()
marked.me = marked
del marked
"""


def ended(code: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-c", CYCLE + code], cwd=ROOT, input=stdin, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return done.stdout


def test_the_cycle_is_collected_at_exit_without_the_hook():
    assert "collected" in ended("import harness")  # the check below can fail


@pytest.mark.slow
def test_a_process_that_runs_jobs_skips_the_last_collection():
    assert "collected" not in ended("import harness.pipeline.jobs")  # what harness.run.main imports to run a job


@pytest.mark.slow
@pytest.mark.parametrize(("module", "argv", "stdin"), [
    ("harness.results.follow", ["follow", "{tmp}", "{tmp}/ledger", "[]"], "quit\n"),
    ("harness.report", ["report", "{tmp}"], ""),
])
def test_the_report_processes_skip_the_last_collection(tmp_path, module, argv, stdin):
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    code = f"import runpy, sys\nsys.argv = {argv!r}\nrunpy.run_module({module!r}, run_name='__main__')"
    assert "collected" not in ended(code, stdin)
