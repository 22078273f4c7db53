"""A command the tests run from the preloaded process (tests/preloaded.py) answers as the same
command in a fresh interpreter: the same exit code, standard output and standard error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import preloaded

ROOT = Path(__file__).resolve().parents[1]
USER_STREAM = '''
from tests.user_streams import Blobs


class Near(Blobs):
    """Blobs, from a module in the working directory."""
'''


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["--cfg", "job", "seed=3", "drift=gradual"],  # standard output
    ["drift.sevrity=1"],  # a refusal on standard error, exit code 2
    ["stream=custom", "stream._target_=near.Near", "+stream.distanse=2"],  # a module of the working directory
    ["--help", "stream=nope"],  # Hydra's error, exit code 1
], ids=["stdout", "refusal", "cwd-module", "hydra-error"])
def test_a_preloaded_command_answers_as_a_fresh_interpreter(args, tmp_path):
    (tmp_path / "near.py").write_text(USER_STREAM)
    command = [sys.executable, "-m", "harness.run", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fresh = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    preloaded_ = preloaded.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert (preloaded_.returncode, preloaded_.stdout, preloaded_.stderr) == (fresh.returncode, fresh.stdout,
                                                                                fresh.stderr)
    assert fresh.stdout or fresh.stderr


@pytest.mark.slow
def test_a_command_past_its_timeout_is_killed_and_raises_as_subprocess_run_does(tmp_path):
    command = [sys.executable, "-m", "harness.run", f"hydra.run.dir={tmp_path / 'run'}"]  # a default run: 15 s
    with pytest.raises(subprocess.TimeoutExpired):
        preloaded.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=0.5)
    assert not (tmp_path / "run" / "result.json").exists()
    done = preloaded.run([sys.executable, "-m", "harness.run", "drift.sevrity=1"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert done.returncode == 2  # the preloaded process goes on after the kill


@pytest.mark.parametrize("change, alike", [
    ({}, True),
    ({"PYTHONPATH": os.pathsep.join(["/elsewhere", str(ROOT)])}, True),  # the child's sys.path takes it
    ({"HYDRA_FULL_ERROR": "1", "COLUMNS": "40"}, True),  # read when the command runs
    ({"PYTHONHASHSEED": "7"}, False),
    ({"MPLBACKEND": "pdf"}, False),
    ({"OMP_NUM_THREADS": "3"}, False),
])
def test_an_environment_an_interpreter_reads_at_start_gets_a_fresh_interpreter(change, alike):
    assert preloaded.starts_alike({**os.environ, "PYTHONPATH": str(ROOT), **change}) == alike
