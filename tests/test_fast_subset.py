"""``make test-fast`` (``pytest -m "not slow"``) runs at least one test of every test module: a module
whose tests are all marked ``slow`` would drop out of the inner loop unseen. Read from the source
(``ast``), so the check costs no collection."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def marked_slow(decorators: list[ast.expr]) -> bool:
    """Whether a decorator list holds ``pytest.mark.slow`` (or a ``pytestmark`` value names it)."""
    return any(ast.unparse(d).replace(" ", "") in ("pytest.mark.slow", "mark.slow") for d in decorators)


def fast_tests(source: str) -> list[str]:
    """The test functions of a module that ``-m "not slow"`` keeps.

    >>> fast_tests("import pytest\\n@pytest.mark.slow\\ndef test_a(): pass\\ndef test_b(): pass\\ndef helper(): pass")
    ['test_b']
    >>> fast_tests("import pytest\\npytestmark = pytest.mark.slow\\ndef test_b(): pass")
    []
    """
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            if marked_slow(values):
                return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_") and not marked_slow(node.decorator_list)]


def test_every_test_module_keeps_a_test_outside_the_slow_marker():
    modules = sorted(TESTS.glob("test_*.py"))
    assert len(modules) > 40  # the glob found the suite
    without = [path.name for path in modules if not fast_tests(path.read_text())]
    assert without == [], f"every test of {without} is marked slow: leave one outside, so make test-fast runs it"
