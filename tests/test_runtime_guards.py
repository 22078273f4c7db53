"""Answers are checked as they are served: a strategy that answers NaN, diverges or loses a column
fails, named with the first bad sample; the other strategies' results stand; the command line says
so with exit code 1."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.offline.tune import search
from harness.pipeline.experiment import StrategiesFailed
from harness.pipeline.replay import TOLERANCE, answer_problem, replay
from harness.pipeline.testing import make_data
from harness.run import run
from harness.strategies import BaseStrategy
from harness.streams import build_stream
from harness.validation.errors import ConfigError
from harness.validation.preflight import preflight
from tests import preloaded
from tests.conftest import TINY, compose_config

ROOT = Path(__file__).resolve().parents[1]
MINE = ["+strategy.mine._target_=tests.user_strategies.TurnsToNaN", "+strategy.mine.n_classes=${stream.n_classes}",
        "+strategy.mine.after=300"]
COLUMNS = ["+strategy.cols._target_=tests.user_strategies.LosesAColumn", "+strategy.cols.n_classes=${stream.n_classes}",
           "+strategy.cols.after=50"]


@pytest.mark.parametrize("answer, expected", [
    ([[0.5, 0.5], [0.2, 0.8]], None),
    ([[0.5 + TOLERANCE / 2, 0.5]], None),  # round-off is no failure
    ([[0.5, 0.5], [np.inf, 0.0]], (1, "its answer is not finite (NaN or infinity)")),
    ([[-0.1, 1.1]], (0, "its answer is no probability row (entries -0.1 to 1.1, summing to 1)")),
    ([[0.5, 0.5], [0.3, 0.3]], (1, "its answer is no probability row (entries 0.3 to 0.3, summing to 0.6)")),
    ([[0.5 + 0j, 0.5]], (0, "its answer is complex, not real")),
    ([[1.0]], (0, "it answered an array of shape (1, 1) for 1 requests, not (1, 2)")),
    ([[0.5, 0.5]] * 3, (0, "it answered an array of shape (3, 2) for 2 requests, not (2, 2)")),
])
def test_answer_problem_by_hand(answer, expected):
    rows = 2 if len(answer) == 3 else len(answer)
    assert answer_problem(np.array(answer), rows, 2) == expected


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed")
    cfg = compose_config(["strategy=[frozen,finetune]", "strategy.finetune.lr=1e30", *MINE, *COLUMNS])
    return run(cfg, out)


@pytest.mark.slow
def test_failed_strategies_are_named_with_their_first_bad_sample(mixed):
    failed = mixed.result["failed_strategies"]
    assert failed["mine"] == "strategy mine failed at t=300: its answer is not finite (NaN or infinity)"
    assert failed["cols"].startswith("strategy cols failed at t=50: it answered an array of shape (1, 2)")
    assert failed["finetune"].startswith("strategy finetune failed at t=")  # lr=1e30 diverges
    assert sorted(failed) == ["cols", "finetune", "mine"] and mixed.result["status"] == "ok"


@pytest.mark.slow
def test_the_other_strategies_results_stand_and_the_failed_have_no_rows(mixed):
    out = mixed.output_dir
    assert list(mixed.result["strategies"]) == ["frozen"]
    for table in ("summary.csv", "windows.csv", "costs.csv"):
        assert set(pd.read_csv(out / table).strategy) == {"frozen"}, table
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert set(predictions.strategy) == {"frozen"} and len(predictions) == 1200
    assert np.isfinite(predictions.filter(like="p_").to_numpy()).all()
    assert json.loads((out / "result.json").read_text())["failed_strategies"] == mixed.result["failed_strategies"]


@pytest.mark.slow
def test_a_run_in_which_every_strategy_fails_is_refused(tmp_path):
    cfg = compose_config(["strategy=[finetune]", "strategy.finetune.lr=1e30", "monitor.enabled=false"])
    with pytest.raises(StrategiesFailed, match="every strategy failed: strategy finetune failed at t="):
        run(cfg, tmp_path / "out")
    assert not (tmp_path / "out" / "result.json").exists()


@pytest.mark.slow
def test_the_command_line_prints_the_failure_and_exits_1(tmp_path):
    out = tmp_path / "run"
    done = preloaded.run([sys.executable, "-m", "harness.run", *TINY, "strategy=[frozen]", *MINE, "figures=false",
                           "monitor.enabled=false", f"hydra.run.dir={out}"], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "error: strategy mine failed at t=300: its answer is not finite (NaN or infinity)" in done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "ok" and list(result["failed_strategies"]) == ["mine"]


@pytest.fixture(scope="module")
def offline():
    cfg = compose_config([])
    return build_stream(cfg.stream, cfg.drift, cfg.seed).offline()


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_diverged_search_trial_is_never_chosen(offline, sampler):
    space = {"lr": [1e30, 1e-2], "batch_size": [32], "weight_decay": [0.0], "width": [16]}
    _, params, records = search(offline, model_kind="mlp", depth=2, n_classes=3, space=space, n_trials=2,
                                max_epochs=3, patience=2, seed=0, sampler=sampler, pruner="none")
    by_lr = {r["lr"]: r for r in records}
    assert not np.isfinite(by_lr[1e30]["val_loss"]) and np.isfinite(by_lr[1e-2]["val_loss"])
    assert params["lr"] == 1e-2 and by_lr[1e-2]["selected"] and not by_lr[1e30]["selected"]


def test_a_search_in_which_every_trial_diverged_is_refused(offline):
    space = {"lr": [1e30], "batch_size": [32], "weight_decay": [0.0], "width": [16]}
    with pytest.raises(ConfigError, match=r"no trial of the pre-deployment search reached a finite validation loss "
                                          r"\(trial 0: (nan|inf)\) over offline.search=\{'lr': \[1e\+30\]"):
        search(offline, model_kind="mlp", depth=2, n_classes=3, space=space, n_trials=1, max_epochs=3, patience=2,
               seed=0)


class Raises(BaseStrategy):
    """Serves uniform probabilities, then its own code raises: at the 101st request or in its 5th learn."""

    def __init__(self, *, where: str):
        self.where, self.served, self.learned = where, 0, 0

    def predict_proba(self, X):
        self.served += len(X)
        if self.where == "predict" and self.served > 100:
            raise RuntimeError("boom\nsecond line")
        return np.full((len(X), 3), 1 / 3)

    def learn(self, X, y):
        self.learned += 1
        if self.where == "learn" and self.learned == 5:
            raise ZeroDivisionError("in learn")


@pytest.mark.parametrize(("where", "message"), [
    ("predict", "strategy r failed at t=100: RuntimeError: boom"),
    ("learn", "strategy r failed at t=4 while learning: ZeroDivisionError: in learn"),
])
def test_a_strategy_whose_code_raises_fails_by_name_and_the_others_stand(where, message):
    offline, deploy = make_data()
    failures = {}
    records = replay(deploy, {"r": Raises(where=where), "ok": Raises(where="none")}, n_classes=3, progress=False,
                     failures=failures)
    assert failures == {"r": message}
    assert list(records) == ["ok"] and records["ok"].proba.shape == (len(deploy), 3)


def test_a_learning_rate_beyond_float32_is_refused_by_name():
    for override in ("offline.search.lr=[1e300]", "model=pretrained model.path=x.pt2 model.lr=1e39"):
        with pytest.raises(ConfigError, match=r"lr(\[0\])?=1e\+(300|39) exceeds 3\.4e\+38, the largest learning rate"):
            compose_config(override.split())


@pytest.mark.parametrize("override", ["offline.search.lr=[1e-50]", "model=pretrained model.path=x.pt2 model.lr=1e-46",
                                      "strategy=[finetune] strategy.finetune.lr=1e-50"])
def test_a_learning_rate_a_float32_rounds_to_0_is_refused_by_name(override):
    """torch steps by the learning rate as a float32, where 1e-50 is 0: nothing would learn, without a word."""
    key = override.split()[-1].split("=")[0]
    with pytest.raises(ConfigError, match=re.escape(key) + r"(\[0\])?=1e-(50|46) is below 1\.4e-45, the smallest"):
        preflight(compose_config(override.split()))  # a strategy's arguments: checked as it is built


def test_a_strategys_learning_rate_gets_the_same_float32_bounds():
    cfg = compose_config(["strategy=[finetune]", "strategy.finetune.lr=1e39"])
    with pytest.raises(ConfigError, match=r"strategy\.finetune\.lr=1e\+39 exceeds 3\.4e\+38, the largest learning rate"):
        preflight(cfg)
