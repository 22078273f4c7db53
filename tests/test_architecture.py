"""The package's shape, as docs/architecture.md states it: sizes, run-time layers, import rules."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "harness"
DOC = ROOT / "docs" / "architecture.md"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 450
MAX_TOP_LEVEL = 11  # besides __init__.py
LIGHT = ("harness.streams", "harness.streams.view", "harness.scores.metrics", "harness.scores.tally")
HEAVY = ("harness.offline", "harness.monitor", "harness.strategies", "torch")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def function_sizes(path: Path) -> dict[str, int]:
    """Lines of every function and method of a module, decorators included, nested ones too."""
    sizes = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            sizes[f"{node.name} (line {node.lineno})"] = node.end_lineno - first + 1
    return sizes


def test_no_function_over_80_lines():
    long = {f"{name}::{function}": size for name, path in modules().items()
            for function, size in function_sizes(path).items() if size > MAX_FUNCTION_LINES}
    assert long == {}


def test_no_module_over_450_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_the_top_of_the_package_has_at_most_11_entries_besides_its_init():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name not in ("__pycache__", "__init__.py")
                     and not p.name.startswith("."))
    assert len(entries) <= MAX_TOP_LEVEL, entries


def test_function_sizes_count_every_line_of_a_function():
    """The size check itself, on a hand-made module: a decorated 3-line function is 4 lines."""
    source = "import functools\n\n\n@functools.cache\ndef f(x):\n    y = x\n    return y\n"
    path = Path(__import__("tempfile").mkdtemp()) / "m.py"
    path.write_text(source)
    assert function_sizes(path) == {"f (line 5)": 4}


@pytest.mark.parametrize("module", LIGHT)
def test_importing_a_light_module_loads_no_model_monitor_or_strategy_code(module):
    """In a fresh interpreter, ``import module`` leaves no module of ``harness.offline``,
    ``harness.monitor``, ``harness.strategies`` nor any ``torch`` module in ``sys.modules``."""
    code = (f"import json, sys, {module}; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'torch' "
            f"or m.startswith({HEAVY[:3]!r}))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout) == []


def import_rules() -> dict[str, set[str]]:
    """The table "Import rules" of docs/architecture.md: module prefix -> the prefixes it may import."""
    text = DOC.read_text().split("## Import rules", 1)[1].split("\n## ", 1)[0]
    rules = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`harness"):
            continue
        rules[cells[0].strip("`")] = {item.strip().strip("`") for item in cells[1].split(",") if item.strip()}
    return rules


def row_of(module: str, rules: dict[str, set[str]]) -> str | None:
    """The row a module belongs to: the longest prefix of the table that is the module or a parent."""
    matches = [prefix for prefix in rules if module == prefix or module.startswith(prefix + ".")]
    return max(matches, key=len) if matches else None


def imported(path: Path, known: set[str]) -> set[str]:
    """The harness modules a module imports, anywhere in it: ``from a.b import c`` counts as
    ``a.b.c`` when that is a module, else as ``a.b``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in known else node.module)
    return {name for name in names if name == "harness" or name.startswith("harness.")}


def violations(rules: dict[str, set[str]], found: dict[str, Path]) -> list[str]:
    """``module -> imported`` for every import the table does not allow."""
    broken = []
    for module, path in found.items():
        own = row_of(module, rules)
        for target in sorted(imported(path, set(found))):
            theirs = row_of(target, rules)
            if target == "harness" or theirs == own or theirs in rules.get(own, set()):
                continue
            broken.append(f"{module} ({own}) -> {target} ({theirs})")
    return broken


def test_every_module_has_a_row_in_the_import_rules():
    rules = import_rules()
    assert len(rules) >= 10
    assert [name for name in modules() if name != "harness" and row_of(name, rules) is None] == []


def test_every_import_keeps_the_rules_of_the_architecture_document():
    assert violations(import_rules(), modules()) == []


def test_an_import_against_the_rules_is_reported(tmp_path):
    """The check itself: a stream module importing a strategy breaks the table's rules."""
    rules = import_rules()
    stream = tmp_path / "bad.py"
    stream.write_text("def f():\n    from harness.strategies.base import BaseStrategy\n")
    found = {**modules(), "harness.streams.bad": stream}
    assert violations(rules, found) == ["harness.streams.bad (harness.streams) -> harness.strategies.base "
                                        "(harness.strategies)"]
