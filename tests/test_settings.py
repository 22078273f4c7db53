"""One validation layer for the Python API and the command line: ``harness.compose`` applies every
per-key check of the schemas, and a config edited in Python reaches them as written (OmegaConf's
typed nodes would turn ``"yes"`` or ``2`` into ``True``), so ``run_experiment`` refuses it with the
command line's message before anything is created."""

from __future__ import annotations

import inspect

import pytest
from omegaconf import OmegaConf

import harness
from harness.pipeline.sweep import SweepCallback
from harness.validation.errors import ConfigError
from harness.validation.preflight import check_preset_values
from harness.validation.settings import RULES, check_schema
from tests import preloaded
from tests.conftest import CONF, compose_config, compose_with_hydra


@pytest.mark.parametrize("override, message", [
    ("drift.severity=1.7", "drift.severity=1.7 is outside [0, 1]"),
    ("threads=100000", "threads=100000 exceeds the "),
    ("monitor.detectors=[]", "monitor.detectors=[] is empty; give at least one value"),
    ("monitor.coverages=[]", "monitor.coverages=[] is empty; give at least one value"),
    ("offline.search.lr=[]", "offline.search.lr=[] is empty; give at least one value"),
    ("replay.label_fraction=0", "replay.label_fraction=0 is outside (0, 1]"),  # as typed: refused before Hydra
    ("quiet=yes", "quiet='yes' is not a boolean; allowed: true, false"),
    ("monitor.detectors=[ks_inputs,bbsd,ks_inputs]", "monitor.detectors=['ks_inputs', 'bbsd', 'ks_inputs'] names "
                                                     "'ks_inputs' twice; give each value once"),
    ("monitor.coverages=[0.5,0.5]", "monitor.coverages=[0.5, 0.5] names 0.5 twice"),
])
def test_compose_applies_the_command_lines_checks(override, message):
    with pytest.raises(ConfigError) as refused:
        harness.compose([override])
    assert str(refused.value).startswith(message)


EDITS = {
    "assignment": lambda cfg: setattr(cfg, "quiet", "yes") or cfg,
    "update": lambda cfg: OmegaConf.update(cfg, "rerun", 2) or cfg,
    "nested assignment": lambda cfg: setattr(cfg.offline, "calibrate", 1) or cfg,
    "merged dict": lambda cfg: OmegaConf.merge(cfg, {"save_stream": "on"}),
    "number as text": lambda cfg: OmegaConf.merge(cfg, {"seed": "3"}),
    "list for a number": lambda cfg: setattr(cfg.drift, "severity", [0.5]) or cfg,
}
MESSAGES = {
    "assignment": "quiet='yes' is not a boolean; allowed: true, false",
    "update": "rerun=2 is not a boolean; allowed: true, false",
    "nested assignment": "offline.calibrate=1 is not a boolean; allowed: true, false",
    "merged dict": "save_stream='on' is not a boolean; allowed: true, false",
    "number as text": "seed='3' is not an integer",
    "list for a number": "drift.severity=[0.5] is not a number",
}


@pytest.mark.slow
@pytest.mark.parametrize("edit", EDITS)
def test_a_config_edited_in_python_is_refused_by_run_experiment(edit, tmp_path):
    cfg = EDITS[edit](compose_config([]))
    with pytest.raises(ConfigError) as refused:
        harness.run_experiment(cfg, tmp_path / "run")
    assert str(refused.value) == MESSAGES[edit] or str(refused.value).startswith(MESSAGES[edit])
    assert not (tmp_path / "run").exists()


def _leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.slow
def test_every_typed_key_refuses_a_value_of_another_type():
    """Walks every leaf of the composed config (streams and strategies apart, typed by their
    constructors): a nested dict where a value belongs is refused naming that key."""
    tree = OmegaConf.to_container(compose_config([]), resolve=True)
    keys = [key for key, _ in _leaves(tree) if not key.startswith(("stream.", "strategy."))]
    assert len(keys) > 40
    for key in keys:
        if key.endswith("_target_"):
            continue
        bad = OmegaConf.to_container(compose_config([]), resolve=True)
        *parents, last = key.split(".")
        node = bad
        for parent in parents:
            node = node[parent]
        node[last] = {"x": 1}
        with pytest.raises(ConfigError, match=f"^{key}="):
            check_schema(bad)


def test_every_rule_names_a_key_of_the_schema():
    tree = OmegaConf.to_container(compose_config([]), resolve=True)
    keys = {key for key, _ in _leaves(tree)}
    keys |= {f"hydra.callbacks.sweep.{name}" for name in inspect.signature(SweepCallback).parameters}
    assert set(RULES) <= keys


@pytest.fixture
def links(tmp_path):
    """A directory with a looping link, a dangling link and a file."""
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangle").symlink_to(tmp_path / "nothing")
    (tmp_path / "file").write_text("")
    return tmp_path


@pytest.mark.parametrize("name, message", [
    ("loop", "passes through {d}/loop, a symbolic link that leads nowhere (dangling or looping)"),
    ("loop/sub", "passes through {d}/loop, a symbolic link that leads nowhere"),
    ("dangle", "passes through {d}/dangle, a symbolic link that leads nowhere"),
    ("file", "is a file: it must be a writable directory (or offline.cache=false)"),
    ("file/sub", "is under {d}/file, which cannot hold it"),
])
def test_a_cache_dir_that_cannot_hold_a_cache_is_refused(name, message, links):
    with pytest.raises(ConfigError) as refused:
        compose_config([f"offline.cache_dir={links / name}"])
    assert str(refused.value) == f"offline.cache_dir='{links / name}' " + message.format(d=links) or \
        message.format(d=links) in str(refused.value)
    assert sorted(p.name for p in links.iterdir()) == ["dangle", "file", "loop"]  # the probe left nothing


def test_a_place_where_no_directory_can_be_made_is_refused():
    """``os.access`` says yes to root on /proc; the probe makes (and removes) a directory to know."""
    with pytest.raises(ConfigError, match=r"^offline.cache_dir='/proc/harness' is under /proc, which cannot hold it"):
        compose_config(["offline.cache_dir=/proc/harness"])


@pytest.mark.slow
def test_the_run_directory_is_checked_before_hydra_makes_it(links):
    import os
    import sys

    from tests.conftest import TINY

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = preloaded.run([sys.executable, "-m", "harness.run", *TINY, f"hydra.run.dir={links / 'dangle' / 'run'}"],
                         cwd=links, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"error: hydra.run.dir='{links / 'dangle' / 'run'}' passes through {links / 'dangle'}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (links / "nothing").exists()


def test_report_reads_a_directory_given_twice_once_with_a_note(tmp_path, capsys):
    from harness.report import distinct_dirs

    (tmp_path / "runs").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "runs")
    given = [tmp_path / "runs", tmp_path / "other", tmp_path / "runs" / ".", tmp_path / "alias"]
    assert distinct_dirs(given) == [tmp_path / "runs", tmp_path / "other"]
    assert capsys.readouterr().err.count("is given twice; its runs are read once") == 2


@pytest.mark.parametrize("args, note", [
    (["--out", "a", "--out", "b"], "note: --out is given twice (--out a, then --out b); the last one is used"),
    (["--metric", "accuracy", "--metric=ece"], "note: --metric is given twice (--metric accuracy, then --metric ece)"),
    (["--figures", "--figures", "severity_boxes"], "note: --figures is given twice (--figures, then --figures severity_boxes)"),
    (["--out", "a", "--out", "a"], None),  # the same value twice changes nothing
])
def test_report_notes_an_option_given_twice_and_keeps_the_last(tmp_path, capsys, args, note):
    from harness.report import main

    with pytest.raises(SystemExit):  # no run below tmp_path: refused after the options are read
        main([str(tmp_path), *args])
    err = capsys.readouterr().err
    assert "holds no run" in err
    assert (note in err) if note else "given twice" not in err


def test_the_command_line_leaves_a_jobs_threads_to_the_machine_that_runs_it():
    """A sweep's jobs may run on other machines (SLURM, Ray): the command line checks a swept value's
    range, but a job's CPUs only where the job runs."""
    from harness.validation.command_line import check_overrides

    check_overrides(["threads=1,1024"])
    with pytest.raises(ConfigError, match=r"^drift.severity=2 is outside \[0, 1\]"):
        check_overrides(["drift.severity=0,2"])
    with pytest.raises(ConfigError, match=r"^threads=1024 exceeds the "):
        harness.compose(["threads=1024"])


def preset_hydra(preset: str, *overrides: str):
    """``experiment=<preset>`` composed with ``overrides``, with the Hydra node a sweep's callbacks get."""
    return compose_with_hydra([f"experiment={preset}", *overrides])


@pytest.mark.parametrize("preset", sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")))
def test_every_value_a_preset_sweeps_passes_the_command_lines_checks(preset):
    check_preset_values(preset_hydra(preset).hydra)


def test_a_bad_value_a_preset_sweeps_is_refused_before_the_sweep_starts(capsys):
    """Refused by the sweep's first callback with the command line's message, unless the command line
    gives that key its own values."""
    from omegaconf import open_dict, read_write

    from harness.validation.preflight import PreflightCallback

    cfg = preset_hydra("severity")
    with read_write(cfg), open_dict(cfg):
        cfg.hydra.sweeper.params["drift.severity"] = "0,0.5,2"
    with pytest.raises(SystemExit) as refused:
        PreflightCallback().on_multirun_start(cfg)
    assert refused.value.code == 2
    assert "error: drift.severity=2 is outside [0, 1] (swept by hydra.sweeper.params)" in capsys.readouterr().err
    overridden = preset_hydra("severity", "drift.severity=0.5")
    with read_write(overridden), open_dict(overridden):
        overridden.hydra.sweeper.params["drift.severity"] = "0,0.5,2"
    check_preset_values(overridden.hydra)
