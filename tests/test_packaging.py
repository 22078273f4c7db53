"""The project declares what it imports, its set-up installs a torch its requirement allows, and the
wheel `pip install .` builds runs from any directory, as `python -m harness.run` and as `drift-harness`."""

import ast
import importlib.metadata
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(extra: str | None = None) -> dict[str, Requirement]:
    listed = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    return {(r := Requirement(line)).name.lower(): r for line in listed}


# scripts that run in an environment of their own, not the harness's (each says how in its README)
OWN_ENVIRONMENT = {ROOT / "tests" / "data" / "nannyml_cbpe" / "make_fixture.py"}  # NannyML's venv


def imported_modules(folder: Path) -> set[str]:
    names = set()
    for path in set(folder.rglob("*.py")) - OWN_ENVIRONMENT:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"harness", "hydra_plugins", "tests"}


def test_every_imported_package_is_declared():
    declared = set(requirements()) | set(requirements("dev"))
    distributions = packages_distributions()
    for folder in ("harness", "hydra_plugins", "tests", "benchmarks"):
        for module in sorted(imported_modules(ROOT / folder)):
            names = {name.lower() for name in distributions.get(module, [module])}
            assert names & declared, f"{folder}/ imports {module} (from {sorted(names)}), not in pyproject.toml"


def test_the_torch_the_set_up_installs_satisfies_the_requirement():
    pin = re.search(r"^TORCH \?= torch==(\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert requirements()["torch"].specifier.contains(pin), (pin, str(requirements()["torch"].specifier))


# -- the package as pip installs it: configs inside, the drift-harness command -------------------

SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
RUN_TINY = ["stream.n_offline=400", "stream.n_deploy=600", "drift.onset=300", "metrics.window=100",
            "offline.n_trials=1", "offline.max_epochs=5", "strategy=[frozen,river_logreg]", "monitor=off",
            "quiet=true"]  # fmt: skip


def test_the_wheel_lists_every_package_and_every_config_group():
    """``pyproject.toml`` names the packages one by one (``conf/`` ships as ``harness.conf``): a package
    or a config group added without its line would be missing from the installed harness."""
    code = {".".join(p.parent.relative_to(ROOT).parts) for top in ("harness", "hydra_plugins")
            for p in (ROOT / top).rglob("__init__.py")}
    groups = {".".join(("harness", *p.relative_to(ROOT).parts)) for p in [ROOT / "conf", *(ROOT / "conf").rglob("*")]
              if p.is_dir() and p.name != "__pycache__"}
    assert sorted(SETUPTOOLS["packages"]) == sorted(code | groups), "[tool.setuptools] packages in pyproject.toml"
    assert SETUPTOOLS["package-dir"] == {"harness.conf": "conf"}
    assert SETUPTOOLS["package-data"] == {"harness.conf": ["**/*.yaml"]}


@pytest.mark.slow
def test_the_drift_harness_command_makes_the_command_lines_checks(tmp_path, monkeypatch, capsys):
    assert PROJECT["scripts"] == {"drift-harness": "harness.run:cli"}
    cli = pkgutil.resolve_name(PROJECT["scripts"]["drift-harness"])
    monkeypatch.setattr(sys, "argv", ["drift-harness", "strategy=[frozen,frozen]", f"hydra.run.dir={tmp_path / 'r'}"])
    with pytest.raises(SystemExit) as refused:
        cli()
    assert refused.value.code == 2
    assert "error: strategy=[frozen,frozen] names frozen twice" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_the_harness_as_the_set_up_installs_it_runs_from_another_directory(tmp_path):
    """``make``'s editable install: ``python -m harness.run`` finds the grid sweeper under Hydra's
    ``hydra_plugins`` beside the other plugins from any directory, not only from the repository's."""
    try:
        importlib.metadata.distribution("drift-harness")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the harness is not installed in this environment (make setup installs it)")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "harness.run", "--help"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "== Configuration groups ==" in done.stdout, done.stderr[-2000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from a copy of the sources (so the checkout gets no build files) and installed,
    not editable, into a directory of its own: ``(wheel, site directory)``."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    for name in ("harness", "hydra_plugins", "conf"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), "."],
                           cwd=source, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("drift_harness-*.whl")
    site = root / "site"
    done = subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return wheel, site


def from_elsewhere(site: Path, cwd: Path, *command: str) -> subprocess.CompletedProcess:
    """``command`` run in ``cwd`` with the installed harness first on the path and its scripts on PATH."""
    env = {**os.environ, "PYTHONPATH": str(site), "PATH": f"{site / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_wheel_ships_every_config_inside_the_package(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name.removeprefix("harness/conf/") for name in archive.namelist() if name.startswith("harness/conf/")}
        scripts = archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt"))).decode()
    assert shipped == {str(p.relative_to(ROOT / "conf")) for p in (ROOT / "conf").rglob("*.yaml")}
    assert "drift-harness = harness.run:cli" in scripts


@pytest.mark.slow
def test_the_installed_harness_reads_the_configs_inside_itself(installed, tmp_path):
    _, site = installed
    where = from_elsewhere(site, tmp_path, sys.executable, "-c",
                           "import harness, harness.validation.config as c; print(harness.__file__); print(c.CONF_DIR)")
    module, conf = map(Path, where.stdout.split())
    assert module.is_relative_to(site) and conf == site / "harness" / "conf", where.stderr


@pytest.mark.slow
def test_the_installed_harness_runs_from_another_directory(installed, tmp_path):
    _, site = installed
    done = from_elsewhere(site, tmp_path, sys.executable, "-m", "harness.run", *RUN_TINY)
    assert done.returncode == 0, done.stderr
    (result,) = (tmp_path / "results" / "runs").glob("*/*/result.json")  # results/ where the user runs
    assert json.loads(result.read_text())["status"] == "ok"
    assert f"results: {result.parent}" in done.stdout


@pytest.mark.slow
def test_the_drift_harness_command_runs_sweeps_and_completes_on_tab(installed, tmp_path):
    _, site = installed
    helped = from_elsewhere(site, tmp_path, "drift-harness", "--help")
    streams = sorted(p.stem for p in (ROOT / "conf" / "stream").glob("*.yaml"))
    assert helped.returncode == 0 and f"stream: {', '.join(streams)}" in helped.stdout, helped.stderr
    # Hydra's documented use: eval the installed completion, then ask it what follows a word
    complete = ('eval "$(drift-harness -sc install=bash)"; COMP_LINE="drift-harness $WORD"; '
                'COMP_POINT=${#COMP_LINE}; COMP_CWORD=1; hydra_bash_completion; printf "%s\\n" "${COMPREPLY[@]}"')
    for word, expected in (("stream=", [f"stream={s}" for s in streams]), ("drift.sever", ["drift.severity="])):
        env_word = {**os.environ, "WORD": word}
        done = subprocess.run(["bash", "-c", complete], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                              env={**env_word, "PYTHONPATH": str(site),
                                   "PATH": f"{site / 'bin'}{os.pathsep}{os.environ['PATH']}"})
        assert sorted(done.stdout.split()) == expected, done.stderr
    swept = from_elsewhere(site, tmp_path, "drift-harness", "-m", *RUN_TINY, "seed=0,1", "hydra.sweep.dir=sweep")
    assert swept.returncode == 0 and "sweep: 2 done, 0 skipped, 0 failed" in swept.stderr, swept.stderr
    jobs = sorted(path.parent for path in (tmp_path / "sweep").glob("*/result.json"))
    assert [[o for o in job.name.split(",") if o.startswith("seed=")] for job in jobs] == [["seed=0"], ["seed=1"]]
    assert all((job / "run.log").is_file() for job in jobs)  # Hydra's job log keeps its name
