"""The command line starts without the experiment's heavy modules: ``python -m harness.run --help``
and a shell-completion query import none of torch, River, pandas, scipy, scikit-learn, matplotlib
or seaborn (each checked in a fresh process, where ``sys.modules`` and ``-X importtime`` tell what
was imported: a subprocess is the point here), and ``from harness.run import run`` still works."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "river", "pandas", "scipy", "sklearn", "matplotlib", "seaborn")


def imported(*args: str, env: dict | None = None) -> tuple[set[str], str]:
    """The top-level packages a fresh ``python -X importtime *args`` imported, and its stdout."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return {name.split(".")[0] for name in names}, done.stdout


def test_importing_the_entry_module_imports_nothing_heavy():
    code = ("import sys, harness.run; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{HEAVY!r} or m == 'harness.pipeline.experiment'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "[]", done.stderr[-2000:]


def test_help_imports_nothing_heavy_and_lists_the_groups():
    packages, out = imported("-m", "harness.run", "--help")
    assert packages.isdisjoint(HEAVY), sorted(packages & set(HEAVY))
    streams = sorted(p.stem for p in (ROOT / "conf" / "stream").glob("*.yaml"))
    assert f"stream: {', '.join(streams)}" in out


@pytest.mark.parametrize(("line", "expected"), [("drift-harness drift.sever", "drift.severity="),
                                                ("drift-harness stream=te", "stream=teacher")])
def test_a_completion_query_imports_nothing_heavy_and_completes(line, expected):
    """Hydra's bash completion asks ``<command> -sc query=bash`` with the line in ``COMP_LINE``."""
    packages, out = imported("-m", "harness.run", "-sc", "query=bash", env={"COMP_LINE": line,
                                                                             "COMP_POINT": str(len(line))})
    assert packages.isdisjoint(HEAVY), sorted(packages & set(HEAVY))
    assert out.split() == [expected]


def test_the_experiment_still_imports_from_the_entry_module():
    import harness.pipeline.experiment as experiment
    import harness.run
    from harness.run import run

    assert run is experiment.run
    with pytest.raises(AttributeError, match="module 'harness.run' has no attribute 'rn'"):
        harness.run.rn


def test_copies_of_the_config_store_share_its_nodes_and_a_load_hands_out_a_copy():
    """Hydra deep-copies the ConfigStore for every composition and every group ``--help`` lists;
    ``register`` lets the copies share the stored nodes, the harness's and Hydra's, which is safe
    because a load copies."""
    import copy

    from hydra.core.config_store import ConfigStore

    from harness.validation import config

    config.register()
    store = ConfigStore.instance()
    copied = copy.deepcopy(store)
    assert copied.repo is store.repo
    store.store(group="later", name="node", node={"x": 1})  # as Hydra's plugins store theirs, after register
    try:
        for path, key in (("schema/stream/teacher.yaml", "n_deploy"), ("base_config.yaml", "seed"),
                          ("hydra/config.yaml", "output_subdir"), ("later/node.yaml", "x")):
            value = store.load(path).node[key]
            store.load(path).node[key] = 12345
            assert copied.load(path).node[key] == store.load(path).node[key] == value
    finally:
        del store.repo["later"]


def test_register_stores_the_schemas_once_and_again_only_if_they_are_gone():
    from hydra.core.config_store import ConfigStore

    from harness.validation import config

    config.register()
    store = ConfigStore.instance()
    stored = store.repo["base_config.yaml"], store.repo["schema"]
    config.register()
    assert store.repo["base_config.yaml"] is stored[0] and store.repo["schema"] is stored[1]  # not stored again

    del store.repo["schema"]  # as if the store had been reset to a state before the harness's
    config.register()
    assert store.repo["schema"]["stream"].keys() == stored[1]["stream"].keys()
