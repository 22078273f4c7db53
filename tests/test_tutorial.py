"""The tutorial's commands run as written (at a tiny size), so the document cannot drift from the code."""

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

import harness
from tests.test_studies import TINY, sweep_params

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "experiments" / "tutorial.md"


def tutorial_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("python")]


@pytest.mark.slow
def test_tutorial_has_the_commands_it_teaches():
    commands = tutorial_commands()
    assert "python -m harness.run" in commands
    assert any("experiment=anatomy" in c for c in commands)
    assert any("replay.label_delay" in c for c in commands)


def test_tutorial_embeds_only_figures_that_exist():
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TUTORIAL.read_text()):
        assert (TUTORIAL.parent / target).resolve().is_file(), target


def tiny(command: str) -> list[str]:
    """Overrides that run ``command`` at a tiny size, but long enough for the tutorial's label delay of
    2,000 samples; a study's preset runs one cell of its grid."""
    extra = [o for o in TINY if not o.startswith(("stream.n_deploy", "drift.onset"))]
    extra += ["stream.n_deploy=2500", "drift.onset=500"]
    preset = next((a.split("=", 1)[1] for a in shlex.split(command) if a.startswith("experiment=")), None)
    if preset:
        extra += [f"{key}={values.split(',')[0]}" for key, values in sweep_params(preset).items()]
    return extra


@pytest.mark.slow
@pytest.mark.parametrize("command", list(dict.fromkeys(tutorial_commands())))  # a repeated command runs once
def test_tutorial_command_runs(command, tmp_path):
    """Each command's overrides composed and run as the command line would (``harness.compose`` applies
    its checks; the command line itself is tested in test_bad_input and test_run), in-process."""
    args = shlex.split(command)
    assert args[:3] == ["python", "-m", "harness.run"], command
    run = harness.run_experiment(harness.compose([*args[3:], *tiny(command)]), tmp_path / "run")
    assert run.result["status"] == "ok" and (tmp_path / "run" / "result.json").is_file()


def make_notebook():
    """``experiments/notebook.py``, the generator of the notebook (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("tutorial_notebook", ROOT / "experiments" / "notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_notebook_is_the_tutorial():
    """The committed notebook is what the generator makes of tutorial.md: one source, two forms."""
    generator = make_notebook()
    assert (ROOT / "experiments" / "tutorial.ipynb").read_text() == generator.render(
        generator.notebook(TUTORIAL.read_text())), "run: python experiments/notebook.py"
    cells = generator.notebook(TUTORIAL.read_text())["cells"]
    code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert code.count("-m harness.run") == len(tutorial_commands())  # every command is a cell


@pytest.mark.slow
def test_the_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    """Executed cell by cell by nbclient (the ``notebook`` extra), every run at a tiny size."""
    nbclient = pytest.importorskip("nbclient", reason="the notebook extra: pip install '.[notebook]'")
    nbformat = pytest.importorskip("nbformat", reason="the notebook extra: pip install '.[notebook]'")
    pytest.importorskip("ipykernel", reason="the notebook extra: pip install '.[notebook]'")
    generator = make_notebook()
    book = generator.notebook(TUTORIAL.read_text(), root=str(tmp_path), extra=tiny)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    executed = nbclient.NotebookClient(nbformat.reads(generator.render(book), as_version=4), timeout=600,
                                       kernel_name="python3").execute()
    outputs = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "Traceback" not in outputs and "error:" not in outputs, outputs[-3000:]
    assert len(list(tmp_path.glob("results/**/result.json"))) >= len(tutorial_commands())
