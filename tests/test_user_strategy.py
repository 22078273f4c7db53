"""A user's own strategy: the two-method example of docs/strategies.md passes ``check_strategy`` and
runs from the command line and from Python; a strategy that breaks a rule fails the check it breaks."""

from __future__ import annotations

import importlib
import os
import pickle
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.pipeline.testing import CHECKS, check_strategy
from harness.run import run
from harness.strategies import BaseStrategy
from tests import preloaded
from tests.conftest import TINY, compose_config
from tests.user_strategies import BROKEN, Frequencies

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "strategies.md"
QUICK = ["figures=false", "monitor.enabled=false"]  # what this test does not look at


def doc_blocks(language: str) -> list[str]:
    """The ``language`` code blocks of the "Your own strategy" section of docs/strategies.md."""
    section = DOC.read_text().split("## Your own strategy", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


@pytest.fixture
def mine(tmp_path, monkeypatch):
    """The documented ``mine.py``, written to a directory on the Python path: ``(directory, module)``."""
    code = doc_blocks("python")[0]
    assert code.startswith("# mine.py\n")
    (tmp_path / "mine.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("mine", None)
    yield tmp_path, importlib.import_module("mine")
    sys.modules.pop("mine", None)


@pytest.mark.slow
def test_the_documented_strategy_passes_the_documented_check(mine):
    check = doc_blocks("python")[1]
    assert "check_strategy(NearestMean)" in check
    exec(compile(check, "docs/strategies.md", "exec"), {})  # raises AssertionError if a check fails


@pytest.mark.slow
@pytest.mark.parametrize("cls, check", BROKEN.items(), ids=[cls.__name__ for cls in BROKEN])
def test_a_strategy_that_breaks_a_rule_fails_that_check(cls, check):
    with pytest.raises(AssertionError) as failed:
        check_strategy(cls)
    assert str(failed.value).startswith(f"check_strategy({cls.__name__}) failed {check!r}"), str(failed.value)


def test_every_check_has_a_strategy_that_fails_it():
    assert set(BROKEN.values()) | {"replay"} == set(CHECKS)


@pytest.mark.slow
def test_the_control_keeps_the_contract():
    """The broken strategies differ from this one by the rule each breaks."""
    check_strategy(Frequencies, name="frequencies")


@pytest.mark.slow
def test_the_base_class_counts_each_label_once_and_not_the_warm_start():
    offline_X, offline_y = np.zeros((10, 2), np.float32), np.arange(10) % 3
    strategy = Frequencies()

    class Data:
        X_train, y_train, X_val, y_val = offline_X[:7], offline_y[:7], offline_X[7:], offline_y[7:]

    strategy.fit_offline(Data, None)
    np.testing.assert_array_equal(strategy.counts, np.bincount(offline_y))  # warm start: every offline label
    assert strategy.n_updates == 0
    strategy.learn(offline_X[:4], offline_y[:4])
    strategy.learn(offline_X[:1], offline_y[:1])
    assert strategy.n_updates == 5

    class Twice(Frequencies):  # its learn calls the counted learn of its parent
        def learn(self, X, y):
            super().learn(X, y)

    class Silent(Frequencies):
        count_updates = False

    for cls, expected in ((Twice, 4), (Silent, 0)):
        other = cls()
        other.learn(offline_X[:4], offline_y[:4])
        assert other.n_updates == expected, cls.__name__


def test_the_default_model_size_counts_what_the_instance_holds():
    small, large = Frequencies(), Frequencies()
    large.buffer = np.zeros(250_000)  # 2 MB
    assert isinstance(small.model_bytes(), int) and 0 < small.model_bytes() < 2_000
    assert 2_000_000 <= large.model_bytes() < 2_000_000 + 2_000
    assert small.model_bytes() == len(pickle.dumps(small, protocol=pickle.HIGHEST_PROTOCOL))
    small.transform = lambda x: x  # a lambda cannot be pickled
    with pytest.raises(TypeError, match=r"^Frequencies cannot be pickled .*override model_bytes\(\)"):
        small.model_bytes()


def test_a_class_without_learn_or_predict_proba_cannot_be_built():
    with pytest.raises(TypeError, match="abstract"):
        type("OnlyPredicts", (BaseStrategy,), {"predict_proba": lambda self, X: X})()


def nearest_mean_by_hand(module, offline: pd.DataFrame, deploy: pd.DataFrame) -> np.ndarray:
    """The documented strategy in a bare test-then-train loop: warm start on the offline rows (train,
    then validation), then for each deployment row: predict, then learn its label."""
    model = module.NearestMean(n_classes=3)
    features = [c for c in offline.columns if c.startswith("x_")]
    for split in ("train", "val"):
        rows = offline[offline.split == split]
        model.learn(rows[features].to_numpy(np.float32), rows.y.to_numpy())
    X, y = deploy[features].to_numpy(np.float32), deploy.y.to_numpy()
    out = []
    for i in range(len(y)):
        out.append(model.predict_proba(X[i : i + 1])[0])
        model.learn(X[i : i + 1], y[i : i + 1])
    return np.array(out)


@pytest.mark.slow
def test_the_documented_command_runs_the_strategy_as_a_bare_loop_would(mine, tmp_path):
    directory, module = mine
    command = next(line for line in doc_blocks("bash")[0].replace("\\\n", " ").splitlines() if "harness.run" in line)
    args = shlex.split(command.split("python -m harness.run", 1)[1])
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(directory), str(ROOT)])}
    done = preloaded.run(
        [sys.executable, "-m", "harness.run", *args, *TINY, *QUICK, "save_stream=true", f"hydra.run.dir={out}"],
        cwd=directory, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    costs = pd.read_csv(out / "costs.csv").set_index("strategy")
    assert costs.loc["mine", "n_updates"] == 1200 and costs.loc["mine", "n_retrains"] == 0  # every label, once
    predictions = pd.read_parquet(out / "predictions.parquet")
    mine_rows = predictions[predictions.strategy == "mine"].sort_values("t")
    expected = nearest_mean_by_hand(
        module, pd.read_parquet(out / "stream_offline.parquet"), pd.read_parquet(out / "stream_deploy.parquet")
    )
    np.testing.assert_allclose(mine_rows[["p_0", "p_1", "p_2"]].to_numpy(), expected, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_run_builds_a_user_strategy_from_a_composed_config(tmp_path):
    """In process, through ``harness.run.run``: half the labels revealed, counted by the base class."""
    overrides = ["strategy=[frozen]", "+strategy.mine._target_=tests.user_strategies.Frequencies",
                 "+strategy.mine.n_classes=${stream.n_classes}", "replay.label_fraction=0.5", *QUICK]  # fmt: skip
    result = run(compose_config(overrides), tmp_path / "run")
    assert set(result.costs.strategy) == {"frozen", "mine"}
    costs = result.costs.set_index("strategy")
    assert costs.loc["mine", "n_updates"] == 600  # round(0.5 * 1200) labels revealed
    assert costs.loc["frozen", "n_updates"] == 0
    assert result.result["status"] == "ok"
