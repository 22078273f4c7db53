"""The project declares what it imports, and its set-up installs a torch its requirement allows."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(extra: str | None = None) -> dict[str, Requirement]:
    listed = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    return {(r := Requirement(line)).name.lower(): r for line in listed}


def imported_modules(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"harness", "tests"}


def test_every_imported_package_is_declared():
    declared = set(requirements()) | set(requirements("dev"))
    distributions = packages_distributions()
    for folder in ("harness", "tests", "benchmarks"):
        for module in sorted(imported_modules(ROOT / folder)):
            names = {name.lower() for name in distributions.get(module, [module])}
            assert names & declared, f"{folder}/ imports {module} (from {sorted(names)}), not in pyproject.toml"


def test_the_torch_the_set_up_installs_satisfies_the_requirement():
    pin = re.search(r"^TORCH \?= torch==(\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert requirements()["torch"].specifier.contains(pin), (pin, str(requirements()["torch"].specifier))
