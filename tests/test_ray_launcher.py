"""Hydra's Ray launcher (the optional extra ``pip install -e '.[ray]'``, ``hydra/launcher=ray_cluster``):
the same sweep gives the same bytes as the basic launcher, on a Ray started for the sweep and on a
running Ray cluster that the sweep joins, with an exact closing count and its failed job recorded.

The sweeps need Ray and are skipped where it is not installed (CI's environment); the checks made
before a sweep starts (:func:`harness.validation.preflight.check_launcher`) run everywhere."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from harness.pipeline.sweep import LEDGER_ENV, ledger_env
from harness.validation.errors import ConfigError
from harness.validation.preflight import check_cluster_sweep, check_plugin
from tests.conftest import TIMED, TINY, compose_with_hydra

ROOT = Path(__file__).resolve().parents[1]
HAS_RAY = importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="hydra-ray-launcher is not installed: the Ray launcher is the "
                               "optional extra pip install -e '.[ray]' (docs/launchers.md)")
# Two finished jobs and one refused by its own check (its drift starts after the stream ends): recorded as failed.
GRID = ["drift.onset=300,600,5000", "seed=0", "strategy=[frozen,river_logreg]", "offline.cache=false",
        "+hydra.callbacks.sweep.figures=[]"]
# No token to hand round in a test; no usage report from a test machine.
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def hydra_config(*overrides: str):
    return compose_with_hydra(overrides).hydra


def test_a_cluster_sweep_into_a_relative_directory_is_refused():
    hydra = hydra_config("hydra/launcher=ray_cluster", "hydra.launcher.ray.init.address=ray://head:10001")
    with pytest.raises(ConfigError, match=r"hydra.sweep.dir=results/sweeps/\S+ is relative: with "
                                          r"hydra.launcher.ray.init.address=ray://head:10001"):
        check_cluster_sweep(hydra)
    check_cluster_sweep(hydra_config("hydra/launcher=ray_cluster", "hydra.launcher.ray.init.address=ray://head:10001",
                                     "hydra.sweep.dir=/shared/sweep"))
    check_cluster_sweep(hydra_config("hydra/launcher=ray_cluster"))  # a Ray of this machine: its workers stand here


def test_the_plugins_own_ray_config_is_refused_for_a_cluster():
    """hydra/launcher=ray (the plugin's config: no object_store_memory key, which its launcher then sets)."""
    target = "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"
    plugins = OmegaConf.create({"launcher": {"_target_": target, "ray": {"init": {"address": "auto"}, "remote": {}}},
                                "sweep": {"dir": "/shared/sweep"}})
    with pytest.raises(ConfigError, match="hydra.launcher.ray.init.address=auto needs hydra/launcher=ray_cluster"):
        check_cluster_sweep(plugins)


def test_a_launcher_whose_plugin_is_missing_is_refused_with_the_install_line():
    hydra = hydra_config("hydra/launcher=ray_cluster")
    hydra.launcher._target_ = "hydra_plugins.no_such_ray_launcher.Launcher"
    with pytest.raises(ConfigError, match=r"hydra.launcher._target_=hydra_plugins.no_such_ray_launcher.Launcher "
                       r"cannot be imported: its plugin is not installed: pip install -e '.\[ray\]'"):
        check_plugin(hydra)
    check_plugin(hydra_config("hydra/launcher=parallel"))  # joblib's, installed with the harness


def test_the_launcher_config_hands_the_ledger_to_the_workers(monkeypatch):
    monkeypatch.setenv(LEDGER_ENV, "/shared/sweep/.ledger-1")
    launcher = hydra_config("hydra/launcher=ray_cluster").launcher
    assert dict(launcher.ray.init.runtime_env.env_vars) == {LEDGER_ENV: "/shared/sweep/.ledger-1"}
    monkeypatch.delenv(LEDGER_ENV)
    assert ledger_env() == {}


@pytest.mark.slow
def test_the_command_line_refuses_before_the_sweep_creates_anything(tmp_path):
    """Without Ray: its plugin is missing; with it: a cluster sweep into a relative directory. Either
    way ``error: ...``, exit 2, and no sweep directory (Hydra's launcher would fail after making it)."""
    overrides = ["hydra.launcher.ray.init.address=127.0.0.1:1", "hydra.sweep.dir=sweep"] if HAS_RAY else \
        [f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    done = subprocess.run([sys.executable, "-m", "harness.run", "-m", "hydra/launcher=ray_cluster", "seed=0,1",
                           *overrides], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    expected = "error: hydra.sweep.dir=sweep is relative" if HAS_RAY else "its plugin is not installed"
    assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


def sweep(directory: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.run", "-m", *TINY, *GRID, *overrides, f"hydra.sweep.dir={directory}"],
        cwd=directory.parent, env={**os.environ, **RAY_ENV, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=600,
    )


# Tables that hold times: compared without them below, and their SHA-256 left out of result.json's files.
MEASURED = ("costs.csv", "offline_search.csv", "predictions.parquet")


def untimed(value):
    """result.json's content without the keys of TIMED, at every depth."""
    return {k: untimed(v) for k, v in value.items() if k not in TIMED} if isinstance(value, dict) else value


def job_contents(job: Path) -> tuple:
    """A finished job: result.json without its times and its own hash, the SHA-256 of every table
    that holds no time, the bytes of summary.csv and windows.csv, and the other tables without times."""
    result = json.loads((job / "result.json").read_text())
    files = {name: sha for name, sha in result["files"].items() if name not in MEASURED}
    result.pop("record_sha256")  # the hash of the record, times included
    measured = [pd.read_csv(job / name) for name in ("costs.csv", "offline_search.csv")]
    measured.append(pd.read_parquet(job / "predictions.parquet"))
    return (untimed(result), files, (job / "summary.csv").read_bytes(), (job / "windows.csv").read_bytes(),
            [frame.drop(columns=[c for c in frame if c in TIMED]).to_csv() for frame in measured])


def contents(directory: Path) -> dict:
    """Per job directory: a finished job's :func:`job_contents`, a failed job's error."""
    out = {}
    for job in sorted(p for p in directory.iterdir() if (p / "result.json").is_file()):
        result = json.loads((job / "result.json").read_text())
        ok = result["status"] == "ok"
        out[job.name] = job_contents(job) if ok else (result["status"], result["error_type"], result["message"])
    return out


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("basic") / "sweep"
    return directory, sweep(directory)


def check_same_as_basic(basic, directory: Path, done: subprocess.CompletedProcess) -> None:
    reference, basic_done = basic
    for finished in (basic_done, done):
        assert finished.returncode == 1, finished.stderr  # a job failed
        assert "sweep: 2 done, 0 skipped, 1 failed" in finished.stderr, finished.stderr
        assert "drift.onset=5000 is outside [0, stream.n_deploy=1200)" in finished.stderr
    theirs, ours = contents(reference), contents(directory)
    assert len(ours) == 3 and sum(isinstance(v[0], dict) for v in ours.values()) == 2
    assert ours == theirs
    assert (directory / "runs.parquet").is_file() and not list(directory.glob(".ledger-*"))


@needs_ray
@pytest.mark.slow
def test_a_ray_on_this_machine_gives_the_basic_launchers_bytes(basic, tmp_path):
    directory = tmp_path / "sweep"
    done = sweep(directory, "hydra/launcher=ray_cluster", "hydra.launcher.ray.init.num_cpus=2")
    assert "Started a local Ray instance" in done.stderr
    check_same_as_basic(basic, directory, done)


@pytest.fixture(scope="module")
def cluster():
    """A Ray head node in a process of its own, started from another working directory and without
    this process's environment, as a cluster's nodes are: its address."""
    home = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = home / "head.log"
    env = {key: value for key, value in os.environ.items() if key not in (LEDGER_ENV, "PYTHONPATH")}
    with log.open("w") as out:
        head = subprocess.Popen([str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
                                 f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
                                 "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={home}"],
                                cwd=home, env={**env, **RAY_ENV}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # ray start --block stops the node's processes on SIGTERM
        head.wait(timeout=60)
        shutil.rmtree(home, ignore_errors=True)


@needs_ray
@pytest.mark.slow
def test_a_ray_cluster_gives_the_basic_launchers_bytes_and_count(basic, cluster, tmp_path):
    directory = tmp_path / "sweep"
    done = sweep(directory, "hydra/launcher=ray_cluster", f"hydra.launcher.ray.init.address={cluster}")
    assert "Connecting to existing Ray cluster" in done.stderr
    check_same_as_basic(basic, directory, done)


@needs_ray
@pytest.mark.slow
def test_without_the_runtime_env_a_clusters_jobs_go_uncounted(cluster, tmp_path):
    """What ``runtime_env.env_vars`` is there for: a cluster's workers do not inherit the sweep's
    environment, so without it no job finds the ledger and the closing count misses all three."""
    directory = tmp_path / "sweep"
    done = sweep(directory, "hydra/launcher=ray_cluster", f"hydra.launcher.ray.init.address={cluster}",
                 "hydra.launcher.ray.init.runtime_env.env_vars={}")
    assert done.returncode == 1
    assert "sweep: 0 done, 0 skipped, 0 failed, 3 unfinished" in done.stderr, done.stderr
    assert len(list(directory.glob("*/result.json"))) == 3  # the jobs ran; only the count missed them
