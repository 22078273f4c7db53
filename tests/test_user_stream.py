"""A user's own stream, a ``Stream`` subclass in a module of their own (``tests/user_streams.py``),
runs by ``stream=custom stream._target_=...`` from Python and from the command line, with its
arguments checked against its constructor and its shared keys defaulting to its own."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from harness.run import run
from harness.streams import DriftSchedule, build_stream
from harness.validation.errors import ConfigError
from tests import preloaded
from tests.conftest import TINY, compose_config
from tests.user_streams import Blobs

ROOT = Path(__file__).resolve().parents[1]
BLOBS = ["stream=custom", "stream._target_=tests.user_streams.Blobs"]
QUICK = ["offline.n_trials=1", "offline.max_epochs=5", "monitor=off", "figures=false"]


def test_the_shared_keys_default_to_the_classs_own():
    cfg = compose_config([*BLOBS, "strategy=[river_logreg]"], tiny=False)
    assert (cfg.stream.n_offline, cfg.stream.n_deploy, cfg.stream.val_fraction) == (600, 900, 0.25)
    assert cfg.stream.n_classes == 2 and cfg.strategy.river_logreg.n_classes == 2
    cfg = compose_config(["stream=custom", "stream._target_=tests.user_streams.CountsClasses",
                          "stream.n_classes=4", "strategy=[river_logreg]"], tiny=False)
    assert cfg.strategy.river_logreg.n_classes == 4 and cfg.stream.n_deploy == 900


@pytest.mark.slow
def test_a_user_stream_runs_through_the_harness(tmp_path):
    cfg = compose_config([*BLOBS, "+stream.distance=2.5", "+stream.flip=0.8", "drift.pattern=gradual",
                          "drift.width=200", "strategy=[frozen,river_logreg]", *QUICK])
    run(cfg, tmp_path)
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "ok"
    described = json.loads((tmp_path / "stream.json").read_text())
    assert described["family"] == "tests.user_streams.Blobs"
    assert (described["distance"], described["flip"], described["n_deploy"]) == (2.5, 0.8, 1200)
    # the replayed labels are the class's own, drawn here without the harness's config
    own = Blobs(DriftSchedule("concept", "gradual", 1.0, 500, 200), seed=0, distance=2.5, flip=0.8,
                n_offline=800, n_deploy=1200).deploy()
    predictions = pd.read_parquet(tmp_path / "predictions.parquet")
    for name in ("frozen", "river_logreg"):
        np.testing.assert_array_equal(predictions[predictions.strategy == name].sort_values("t").y_true, own.y)
    summary = pd.read_csv(tmp_path / "summary.csv").set_index(["strategy", "phase"])
    assert summary.loc[("frozen", "pre"), "accuracy"] > 0.75  # two blobs 2.5 sd apart
    assert summary.loc[("frozen", "post"), "accuracy"] < 0.4  # 80% of the labels flipped


@pytest.mark.slow
def test_a_user_stream_runs_from_the_command_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "harness.run", *BLOBS, "+stream.distance=2.5", "strategy=[river_logreg]",
               *TINY, *QUICK, f"hydra.run.dir={tmp_path / 'run'}"]
    done = preloaded.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "stream.json").read_text())["distance"] == 2.5
    assert OmegaConf.load(tmp_path / "run" / ".hydra" / "config.yaml").stream.n_classes == 2


@pytest.mark.parametrize(("overrides", "message"), [
    (["+stream.distanse=2"],
     "stream.distanse is not a key of stream=tests.user_streams.Blobs (did you mean 'distance'?); allowed: ["),
    (["stream.n_classes=3"], "stream.n_classes=3 is fixed at 2 for stream=tests.user_streams.Blobs"),
    (["+stream.distance=-1"], "stream.distance=-1 must be > 0"),
    (["drift.kind=label"], "drift.kind='label' is not supported by stream=tests.user_streams.Blobs"),
])
def test_a_user_streams_bad_arguments_are_refused_before_it_is_built(overrides, message):
    with pytest.raises(ConfigError) as refused:  # by compose's checks, or when the stream is built
        cfg = compose_config([*BLOBS, *overrides])
        build_stream(cfg.stream, cfg.drift, cfg.seed)
    assert message in str(refused.value)


@pytest.mark.slow
def test_the_stream_in_the_docs_runs_as_documented(tmp_path, monkeypatch):
    """docs/streams.md, "Your own stream": its class, saved as mypkg/blobs.py, runs by its command."""
    section = (ROOT / "docs" / "streams.md").read_text().split("## Your own stream")[1]
    code = section.split("```python\n")[1].split("```")[0]
    command = shlex.split(section.split("```bash\n")[1].split("```")[0])
    assert command[:3] == ["python", "-m", "harness.run"]
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "blobs.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    run(compose_config([*command[3:], "drift.onset=500", "strategy=[river_logreg]", *QUICK]), tmp_path / "run")
    assert json.loads((tmp_path / "run" / "stream.json").read_text())["distance"] == 2.5


def sweep(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "harness.run", "-m", "stream=custom", *overrides, *QUICK,
               f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    return preloaded.run(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=300)


@pytest.mark.slow
def test_a_bad_target_in_a_sweep_is_refused_by_name_before_any_job_starts(tmp_path):
    done = sweep(tmp_path, "stream._target_=tests.user_streams.Nope", "seed=0,1")
    assert done.returncode == 2
    assert "error: stream._target_='tests.user_streams.Nope' cannot be imported" in done.stderr
    assert "Interpolation" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "sweep").exists()


@pytest.mark.slow
def test_a_swept_bad_target_fails_each_job_with_the_message_naming_it(tmp_path):
    done = sweep(tmp_path, "stream._target_=tests.user_streams.Nope,collections.OrderedDict")
    assert done.returncode == 1 and "sweep: 0 done, 0 skipped, 2 failed" in done.stderr
    assert "Interpolation" not in done.stderr and "Traceback" not in done.stderr
    messages = sorted(json.loads(path.read_text())["message"] for path in (tmp_path / "sweep").rglob("result.json"))
    assert [message.splitlines()[0] for message in messages] == [
        "stream._target_='collections.OrderedDict' is not a subclass of harness.streams.Stream",
        "stream._target_='tests.user_streams.Nope' cannot be imported: Error loading 'tests.user_streams.Nope':",
    ]
