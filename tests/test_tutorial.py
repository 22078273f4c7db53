"""The tutorial's commands run as written (at a tiny size), so the document cannot drift from the code."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_studies import TINY, sweep_params

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "experiments" / "tutorial.md"


def tutorial_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("python")]


def test_tutorial_has_the_commands_it_teaches():
    commands = tutorial_commands()
    assert "python -m harness.run" in commands
    assert any("experiment=anatomy" in c for c in commands)
    assert any("replay.label_delay" in c for c in commands)


def test_tutorial_embeds_only_figures_that_exist():
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TUTORIAL.read_text()):
        assert (TUTORIAL.parent / target).resolve().is_file(), target


@pytest.mark.slow
@pytest.mark.parametrize("command", tutorial_commands())
def test_tutorial_command_runs(command, tmp_path):
    args = shlex.split(command)
    assert args[:3] == ["python", "-m", "harness.run"], command
    # Tiny, but long enough for the tutorial's label delay of 2,000 samples.
    extra = [o for o in TINY if not o.startswith(("stream.n_deploy", "drift.onset"))]
    extra += ["stream.n_deploy=2500", "drift.onset=500"]
    preset = next((a.split("=", 1)[1] for a in args if a.startswith("experiment=")), None)
    if preset:  # one cell of the study's grid
        extra += [f"{key}={values.split(',')[0]}" for key, values in sweep_params(preset).items()]
    done = subprocess.run(
        [sys.executable, *args[1:], *extra], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(tmp_path.glob("results/**/result.json")), "no run finished"
