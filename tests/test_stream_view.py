"""What stream.png is drawn from: label agreement with the offline rule, and the drift as a step."""

import json

import numpy as np
import pandas as pd

from harness.figures import palette, stream_view
from harness.streams.base import DeployData, DriftSchedule, OfflineData, deploy_data
from harness.streams.view import stream_progress, stream_timeline, write_stream_view


def two_clusters(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    return (y[:, None] * 6.0 + rng.normal(size=(n, 2))).astype(np.float32), y


def test_concept_drift_shows_as_labels_leaving_the_offline_rule_while_inputs_stay():
    rng = np.random.default_rng([0, 7])
    x_off, y_off = two_clusters(400, rng)
    offline = OfflineData(x_off[:300], y_off[:300], x_off[300:], y_off[300:])
    x, y = two_clusters(400, rng)
    t = np.arange(400)
    flipped = np.where(t >= 200, 1 - y, y)  # same inputs, swapped labels from t = 200
    deploy = DeployData(X=x, y=flipped, t=t, phase=np.where(t < 200, "pre", "post"),
                        drift_progress=(t >= 200).astype(float), novel=np.zeros(400, bool))
    timeline = stream_timeline(deploy, 2, window=100, offline=offline).drop_duplicates("t_end")
    assert (timeline.loc[timeline.t_end <= 200, "nn_agreement"] > 0.95).all()
    assert (timeline.loc[timeline.t_end > 200, "nn_agreement"] < 0.05).all()


def test_a_long_stream_searches_a_seeded_sample_of_rows_and_still_shows_the_drift():
    """The same flipped stream with the search capped at 100 of 400 rows: each window's agreement
    is a share of its drawn rows (still near 1 before and 0 after the flip), the drawn rows are the
    same on a second call, a cap at the stream's length changes nothing, and a cap of one row leaves
    a single window with a share."""
    rng = np.random.default_rng([0, 9])
    x_off, y_off = two_clusters(400, rng)
    offline = OfflineData(x_off[:300], y_off[:300], x_off[300:], y_off[300:])
    x, y = two_clusters(400, rng)
    t = np.arange(400)
    deploy = DeployData(X=x, y=np.where(t >= 200, 1 - y, y), t=t, phase=np.where(t < 200, "pre", "post"),
                        drift_progress=(t >= 200).astype(float), novel=np.zeros(400, bool))
    whole = stream_timeline(deploy, 2, window=100, offline=offline)
    capped = stream_timeline(deploy, 2, window=100, offline=offline, nn_rows=100).drop_duplicates("t_end")
    pd.testing.assert_frame_equal(stream_timeline(deploy, 2, window=100, offline=offline, nn_rows=400), whole)
    pd.testing.assert_frame_equal(stream_timeline(deploy, 2, window=100, offline=offline, nn_rows=100)
                                  .drop_duplicates("t_end"), capped)
    shares = capped.nn_agreement.to_numpy()
    assert shares[:2].min() > 0.9 and shares[2:].max() < 0.1
    one = stream_timeline(deploy, 2, window=100, offline=offline, nn_rows=1).drop_duplicates("t_end").nn_agreement
    assert one.notna().sum() == 1 and one.dropna().iloc[0] in (0.0, 1.0)  # one row searched: one window, 0 or 1


def test_sudden_drift_progress_is_a_step_at_the_onset():
    schedule = DriftSchedule(kind="concept", pattern="sudden", severity=1.0, onset=250, width=0)
    deploy = deploy_data(schedule, np.zeros((600, 2)), np.zeros(600, int))
    progress = stream_progress(deploy)
    assert progress.values.tolist() == [[0, 0.0], [250, 1.0], [599, 1.0]]


def test_stream_figure_uses_class_colours_and_writes(tmp_path):
    rng = np.random.default_rng([0, 8])
    x_off, y_off = two_clusters(300, rng)
    offline = OfflineData(x_off[:200], y_off[:200], x_off[200:], y_off[200:])
    schedule = DriftSchedule(kind="concept", pattern="sudden", severity=1.0, onset=150, width=0)
    x, y = two_clusters(300, rng)
    write_stream_view(tmp_path, offline, deploy_data(schedule, x, y), onset=150, n_classes=2, window=50)
    (tmp_path / "stream.json").write_text(json.dumps({"family": "test", "schedule": schedule.as_dict()}))
    assert stream_view.plot_stream(tmp_path).is_file()
    assert set(pd.read_csv(tmp_path / "stream_progress.csv").columns) == {"t", "drift_progress"}
    assert not {palette.class_color(k) for k in (0, 1)} & set(palette.STRATEGY_COLORS.values())
