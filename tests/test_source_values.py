"""River learners get the values the source holds (float64 from a file, not rounded to float32):
every River strategy's probabilities equal bare River's ``iter_progressive_val_score`` on the
source data, sample by sample, on a CSV written here and on the weather file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from river import compose, evaluate, linear_model, metrics, multiclass, preprocessing

from harness.run import run
from harness.streams.weather import FEATURES, TARGET, rainfall_csv
from tests.conftest import compose_config

RIVER = ["river_logreg", "river_gnb", "river_ht", "river_hat", "river_knn", "river_arf", "river_lev_bagging",
         "river_adwin_bagging"]
SMALL = ["offline.n_trials=1", "offline.max_epochs=2", "quiet=true", "monitor=off", "figures=false"]
N_ROWS, N_OFFLINE = 700, 300


def write_float64_csv(path: Path) -> pd.DataFrame:
    """Three features whose values float32 cannot hold exactly, a three-class label."""
    rng = np.random.default_rng([3, 10])
    frame = pd.DataFrame({"a": rng.normal(size=N_ROWS) * 1e3 + 0.1, "b": rng.normal(size=N_ROWS),
                          "c": rng.uniform(size=N_ROWS) / 3})
    frame["y"] = np.digitize(frame.a / 1e3 + frame.b, [-0.5, 0.5])
    frame.to_csv(path, index=False)
    assert (pd.read_csv(path)[["a", "b", "c"]].to_numpy().astype(np.float32) != frame[["a", "b", "c"]]).any().any()
    return frame


def river_probabilities(model, X: np.ndarray, y: np.ndarray, n_offline: int, n_classes: int) -> np.ndarray:
    """Bare River: ``learn_one`` over the first ``n_offline`` rows (the warm start), then
    ``iter_progressive_val_score`` over the rest, yielding ``predict_proba_one`` before each
    ``learn_one``; each answer as a vector of ``n_classes`` (an unseen class 0, renormalised)."""
    rows = [({f"x_{j}": v for j, v in enumerate(row)}, label) for row, label in zip(X.tolist(), y.tolist())]
    for x, label in rows[:n_offline]:
        model.learn_one(x, label)
    metric = metrics.LogLoss() if n_classes == 2 else metrics.CrossEntropy()  # asks for probabilities
    steps = evaluate.iter_progressive_val_score(rows[n_offline:], model, metric, yield_predictions=True)
    out = np.zeros((len(rows) - n_offline, n_classes))
    for i, step in enumerate(steps):
        for label, p in step["Prediction"].items():
            out[i, label] = p
        total = out[i].sum()
        out[i] = out[i] / total if total > 0 else 1.0 / n_classes
    return out


def harness_probabilities(output_dir: Path, name: str, n_classes: int) -> np.ndarray:
    predictions = pd.read_parquet(output_dir / "predictions.parquet")
    mine = predictions[predictions.strategy == name].sort_values("t")
    return mine[[f"p_{k}" for k in range(n_classes)]].to_numpy()


def assert_same(harness: np.ndarray, river: np.ndarray, name: str) -> None:
    differing = int((harness.argmax(axis=1) != river.argmax(axis=1)).sum())
    assert differing == 0, f"{name}: {differing} of {len(river)} predictions differ from bare River"
    np.testing.assert_allclose(harness, river, rtol=0, atol=1e-12, err_msg=name)


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("float64")
    frame = write_float64_csv(folder / "data.csv")
    cfg = compose_config(["stream=table", f"stream.path={folder / 'data.csv'}", "stream.target=y",
                          f"stream.n_offline={N_OFFLINE}", f"strategy=[{','.join(RIVER)}]", *SMALL], tiny=False)
    return frame, cfg, run(cfg, folder / "run")


@pytest.mark.slow
@pytest.mark.parametrize("name", RIVER)
def test_every_river_strategy_equals_progressive_val_score_on_the_file_values(table_run, name):
    frame, cfg, result = table_run
    model = instantiate(cfg.strategy[name].model)
    if name == "river_logreg":  # three classes: River's one-vs-rest over its binary logistic regression
        model = compose.Pipeline(preprocessing.StandardScaler(),
                                 multiclass.OneVsRestClassifier(linear_model.LogisticRegression()))
    expected = river_probabilities(model, frame[["a", "b", "c"]].to_numpy(),
                                   frame.y.to_numpy(), N_OFFLINE, 3)
    assert_same(harness_probabilities(result.output_dir, name, 3), expected, name)


@pytest.mark.slow
def test_hoeffding_tree_on_the_weather_file_equals_progressive_val_score(tmp_path):
    cfg = compose_config(["stream=weather", "strategy=[river_ht]", *SMALL], tiny=False)
    result = run(cfg, tmp_path / "run")
    table = pd.read_csv(rainfall_csv())
    X, y = table[FEATURES].to_numpy(dtype=np.float64), table[TARGET].to_numpy().astype(int)
    expected = river_probabilities(instantiate(cfg.strategy.river_ht.model), X, y, cfg.stream.n_offline, 2)
    assert len(expected) == 14_507
    assert_same(harness_probabilities(result.output_dir, "river_ht", 2), expected, "river_ht on weather")
    # the file is standardised over all 50 years; the frozen network re-standardises with the training
    # split's own statistics (the first 2,739 days), so nothing of the later years reaches it
    n_train = cfg.stream.n_offline - round(cfg.stream.n_offline * cfg.stream.val_fraction)
    scaler = result.result["frozen_model"]["preprocessing"]
    np.testing.assert_allclose(scaler["mean"], X[:n_train].mean(axis=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(scaler["std"], X[:n_train].std(axis=0), rtol=1e-5)
    assert n_train == 2739 and abs(scaler["std"][2] - 1) > 0.5  # sea-level pressure: std 0.16 in those years


def test_a_float64_source_stays_float64_and_a_float32_one_float32(table_run):
    from harness.validation.preflight import preflight

    _, cfg, _ = table_run
    assert preflight(cfg)[0].offline().X_train.dtype == np.float64
    teacher = compose_config(["stream=teacher"])
    assert preflight(teacher)[0].offline().X_train.dtype == np.float32
