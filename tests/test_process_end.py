"""Every process the harness owns ends without the interpreter's last garbage collections
(``harness.skip_final_collection``): one that runs a job of the command line's app (its task function
registers it, in the command line's process and in the workers of joblib and Ray, which receive that
function by value), the sweep's report process and ``harness.report``; a process of the user's own that
imports the harness keeps them. Each is checked in a fresh process (a process's end is the point), by
an object in a reference cycle whose finaliser writes a mark: collected at exit, the mark appears; left
frozen, it does not (automatic collections are off until then)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]
CYCLE = """
import gc, os
gc.disable()  # no collection before the end: only the interpreter's last ones can find the cycle
class Marked:
    def __del__(self):
        os.write(1, b"<collected at exit>")
marked = Marked()
marked.me = marked
del marked
"""


def ended(code: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-c", CYCLE + code], cwd=ROOT, input=stdin, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return done.stdout


def test_the_cycle_is_collected_at_exit_without_the_hook():
    assert "<collected at exit>" in ended("import harness")  # the checks below can fail


@pytest.mark.slow
def test_a_users_process_that_imports_the_harness_keeps_the_last_collection():
    # the API (harness.compose, harness.run_experiment) imports all a job needs, harness.pipeline.jobs among it
    assert "<collected at exit>" in ended("import harness.run, harness.pipeline.api")


@pytest.mark.slow
def test_a_process_that_runs_a_job_skips_the_last_collection(tmp_path):
    argv = ["harness.run", *TINY, "strategy=[frozen]", f"hydra.run.dir={tmp_path / 'run'}"]
    code = f"import runpy, sys\nsys.argv = {argv!r}\nrunpy.run_module('harness.run', run_name='__main__')"
    out = ended(code)
    assert (tmp_path / "run" / "result.json").is_file(), out[-2000:]
    assert "<collected at exit>" not in out


@pytest.mark.slow
@pytest.mark.parametrize(("module", "argv", "stdin"), [
    ("harness.results.follow", ["follow", "{tmp}", "{tmp}/ledger", "[]"], "quit\n"),
    ("harness.report", ["report", "{tmp}"], ""),
])
def test_the_report_processes_skip_the_last_collection(tmp_path, module, argv, stdin):
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    code = f"import runpy, sys\nsys.argv = {argv!r}\nrunpy.run_module({module!r}, run_name='__main__')"
    assert "<collected at exit>" not in ended(code, stdin)
