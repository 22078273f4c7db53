"""The tutorial as a Jupyter notebook, generated from its one source, ``experiments/tutorial.md``.

    python experiments/notebook.py            # writes experiments/tutorial.ipynb

Prose becomes markdown cells; each command of a ```bash block becomes a code cell that runs it
through the kernel's own Python (``!{sys.executable} -m harness.run ...``), so the notebook and the
document cannot say different things (``tests/test_tutorial.py`` checks that the committed notebook
is what this script makes). ``extra`` appends overrides to every run, as the test does to execute
the notebook at a tiny size. Written with ``json`` alone: the notebook format (nbformat 4) needs no
library to write; running it needs the ``notebook`` extra (nbclient, ipykernel).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE, NOTEBOOK = HERE / "tutorial.md", HERE / "tutorial.ipynb"
SETUP = ("import sys  # every command runs in this kernel's Python: start Jupyter from the project's .venv\n"
         "%cd {root}")


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n").splitlines(keepends=True)}


def _code(text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": text.splitlines(keepends=True)}


def command_cell(command: str, extra: Sequence[str] = ()) -> str:
    """A shell command of the tutorial as a notebook line: ``python`` is the kernel's interpreter,
    ``source .venv/bin/activate`` is the kernel itself (nothing to do).

    >>> command_cell("python -m harness.run drift.kind=covariate", ["quiet=true"])
    '!{sys.executable} -m harness.run drift.kind=covariate quiet=true'
    """
    if command.startswith("python "):
        return "!{sys.executable} " + " ".join([command.removeprefix("python "), *extra])
    return "!" + command


def notebook(markdown: str, *, root: str = "..", extra: Callable[[str], Sequence[str]] | None = None) -> dict:
    """The notebook of the tutorial ``markdown``; ``root``: the project folder, relative to the
    notebook (the commands run there, as in the tutorial); ``extra(command)``: overrides appended to
    a ``python`` command (none by default)."""
    cells = [_code(SETUP.format(root=root))]
    parts = re.split(r"```bash\n(.*?)```\n?", markdown, flags=re.S)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            if part.strip():
                cells.append(_markdown(part))
            continue
        lines = [line.strip() for line in part.splitlines() if line.strip() and not line.strip().startswith("#")]
        lines = [line for line in lines if not line.startswith("source ")]  # the kernel is the environment
        if lines:
            cells.append(_code("\n".join(command_cell(line, extra(line) if extra else ()) for line in lines)))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # nbformat 4.5: every cell has an id; stable, so regenerating changes nothing
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                          "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def render(book: dict) -> str:
    return json.dumps(book, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    NOTEBOOK.write_text(render(notebook(SOURCE.read_text())))
    print(f"wrote {NOTEBOOK}", file=sys.stderr)
