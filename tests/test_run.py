"""The whole run, end to end, checked against independent computations."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from river import compose, evaluate, linear_model, metrics, multiclass, preprocessing

from harness.offline.freeze import exported_proba
from harness.offline.models import weights_sha256
from harness.run import run
from tests.conftest import compose_config

CONTRACT = {
    "predictions.parquet": ["strategy", "t", "y_true", "y_pred", "confidence", "p_0", "p_1", "p_2", "phase",
                            "novel", "label_used"],
    "summary.csv": ["strategy", "phase", "n", "accuracy", "ece", "brier", "nll", "confident_error_rate",
                    "confident_error_share", "mean_confidence"],
    "windows.csv": ["strategy", "window", "t_end", "accuracy", "ece", "confident_error_rate", "mean_confidence"],
    "costs.csv": ["strategy", "predict_s", "learn_s", "samples_per_s", "latency_p50_us", "latency_p99_us",
                  "model_bytes", "peak_model_bytes", "n_updates"],
    "offline_search.csv": ["trial", "lr", "batch_size", "weight_decay", "width", "val_loss", "val_accuracy"],
    "stream_offline.parquet": ["x_0", "x_9", "y", "t", "split"],
    "stream_deploy.parquet": ["x_0", "x_9", "y", "t", "phase", "novel", "drift_progress"],
}  # fmt: skip


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default experiment (all four strategies), shrunk, with the stream saved."""
    out = tmp_path_factory.mktemp("run")
    return run(compose_config(["save_stream=true"]), out)


def read(run_dir, name):
    path = run_dir / name
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.slow
def test_default_run_writes_every_contract_file(default_run):
    out = default_run.output_dir
    for name, columns in CONTRACT.items():
        assert set(columns) <= set(read(out, name).columns), name
    for name in ("stream.json", "frozen_model.pt2", "figure.png", "result.json"):
        assert (out / name).stat().st_size > 0, name
    summary = read(out, "summary.csv")
    assert set(summary.strategy) == {"frozen", "river_logreg", "river_hat", "finetune"}
    assert set(summary.phase) == {"pre", "post", "all"}  # a sudden drift has no drift phase
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "ok"
    for values in result["strategies"].values():
        assert {"drift_induced_error", "recovery_samples"} <= set(values)
    predictions = read(out, "predictions.parquet")
    proba = predictions[["p_0", "p_1", "p_2"]].to_numpy()
    assert np.allclose(proba.sum(axis=1), 1.0) and (proba >= 0).all()
    assert (predictions.groupby("strategy").size() == 1200).all()


@pytest.mark.slow
def test_exported_model_reproduces_the_frozen_predictions(default_run):
    out = default_run.output_dir
    deploy = read(out, "stream_deploy.parquet")
    X = deploy[[f"x_{i}" for i in range(10)]].to_numpy(np.float32)
    frozen = read(out, "predictions.parquet").query("strategy == 'frozen'").sort_values("t")
    expected = frozen[["p_0", "p_1", "p_2"]].to_numpy()
    assert np.allclose(exported_proba(out / "frozen_model.pt2", X), expected, atol=1e-6)


@pytest.mark.slow
def test_frozen_weights_are_unchanged_by_the_replay(default_run):
    frozen_model = default_run.result["frozen_model"]
    assert frozen_model["sha256_before"] == frozen_model["sha256_after"]
    # The exported artifact carries the same weights the hash was taken of.
    program = torch.export.load(str(default_run.output_dir / "frozen_model.pt2"))
    assert weights_sha256(program.module()) == frozen_model["sha256_before"]


@pytest.mark.slow
def test_river_logreg_matches_progressive_val_score(default_run):
    out = default_run.output_dir
    offline, deploy = read(out, "stream_offline.parquet"), read(out, "stream_deploy.parquet")
    keys = [f"x_{i}" for i in range(10)]
    model = compose.Pipeline(
        preprocessing.StandardScaler(), multiclass.OneVsRestClassifier(linear_model.LogisticRegression())
    )
    for row in offline.sort_values("t").itertuples():  # warm start: train then validation, in order
        model.learn_one({k: getattr(row, k) for k in keys}, int(row.y))
    stream = (({k: getattr(row, k) for k in keys}, int(row.y)) for row in deploy.itertuples())
    expected = evaluate.progressive_val_score(stream, model, metrics.Accuracy()).get()
    summary = read(out, "summary.csv").set_index(["strategy", "phase"])
    assert summary.loc[("river_logreg", "all"), "accuracy"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.slow
def test_same_config_and_seed_give_identical_summaries(default_run, tmp_path):
    again = run(compose_config(["save_stream=true"]), tmp_path)
    assert (tmp_path / "summary.csv").read_bytes() == (default_run.output_dir / "summary.csv").read_bytes()
    assert again.result["frozen_model"]["sha256_before"] == default_run.result["frozen_model"]["sha256_before"]


@pytest.mark.slow
def test_another_seed_gives_other_numbers(default_run, tmp_path):
    run(compose_config(["save_stream=true", "seed=1", "strategy=[frozen]"]), tmp_path)
    assert not read(tmp_path, "stream_deploy.parquet")["x_0"].equals(
        read(default_run.output_dir, "stream_deploy.parquet")["x_0"]
    )


DRIFT_SIZE = ["stream.n_offline=1500", "stream.n_deploy=3000", "drift.onset=1000", "metrics.window=200"]


def test_no_drift_means_no_drift_induced_error(tmp_path):
    outcome = run(compose_config([*DRIFT_SIZE, "drift.severity=0"]), tmp_path)
    for name, values in outcome.result["strategies"].items():
        assert abs(values["drift_induced_error"]) < 0.06, name


@pytest.mark.slow
def test_strong_concept_drift_hurts_the_frozen_model_and_learners_recover(tmp_path):
    outcome = run(compose_config([*DRIFT_SIZE, "strategy=[frozen,finetune,river_logreg]"]), tmp_path)
    s = outcome.result["strategies"]
    assert s["frozen"]["accuracy_post"] < s["frozen"]["accuracy_pre"] - 0.25
    for name in ("finetune", "river_logreg"):
        assert s[name]["accuracy_post"] > s["frozen"]["accuracy_post"] + 0.15, name
        assert s[name]["confident_error_rate_post"] < s["frozen"]["confident_error_rate_post"] / 2, name
