"""Long streams: the predictions are written in row groups of ``replay.chunk`` samples, a stream
longer than a chunk keeps the replay's outputs on disk and is scored a block at a time, and neither
the chunk nor the block size changes any number."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from harness.pipeline.replay import Record
from harness.pipeline.spill import Spill
from harness.pipeline.summary import predictions_table, summary_table, write_predictions
from harness.run import run
from harness.scores import metrics, tally
from harness.validation.preflight import preflight
from tests.conftest import TIMED, compose_config

OVERRIDES = ["strategy=[frozen,finetune,retrain_triggered]", "replay.label_fraction=0.8", "replay.latency_requests=300"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same run with a tiny chunk (97, which divides nothing) and one chunk for the whole stream."""
    out = {}
    for chunk in (97, 10**6):
        directory = tmp_path_factory.mktemp(f"chunk{chunk}")
        run(compose_config([*OVERRIDES, f"replay.chunk={chunk}"]), directory)
        out[chunk] = directory
    return out


def untimed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if c in TIMED])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["summary.csv", "windows.csv", "costs.csv", "detections.csv", "stream_timeline.csv",
                                  "stream_points.csv", "stream_progress.csv", "offline_search.csv"])
def test_chunk_size_changes_no_number(runs, name):
    small, large = (pd.read_csv(runs[chunk] / name) for chunk in (97, 10**6))
    pd.testing.assert_frame_equal(untimed(small), untimed(large), check_exact=True)


def without_times(value):
    """``value`` (result.json's content) without the keys of TIMED, at every depth."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIMED}
    return value


@pytest.mark.slow
def test_chunk_size_changes_no_number_of_the_result(runs):
    """Headline, detections, hashes: result.json agrees but for times, the chunk asked for and the
    offline cache (the second run finds the first's entry)."""
    small, large = (json.loads((runs[chunk] / "result.json").read_text()) for chunk in (97, 10**6))
    for result in (small, large):
        result["config"]["replay"].pop("chunk")
        result.pop("config_sha256")
        result.pop("offline_cache")
        result.pop("record_sha256")  # a hash of the record itself, times included
    assert without_times(small) == without_times(large)
    assert small["strategies"]["frozen"]["drift_induced_error"] > 0  # a run that measured something


@pytest.mark.slow
def test_the_replay_outputs_on_disk_are_removed(runs):
    assert [p.name for p in runs[97].iterdir() if p.name.startswith(".replay")] == []


def test_spilled_rows_read_back_as_appended(tmp_path):
    rows = np.random.default_rng(0).random((50, 3))
    spill = Spill(tmp_path / "rows.f64", rows.shape, chunk=7)
    for a in range(0, 50, 4):
        spill.append(rows[a : a + 4])
    spilled = spill.result()
    assert np.array_equal(spilled[:], rows) and np.array_equal(spilled[13:29], rows[13:29])
    assert spilled[49:60].shape == (1, 3) and np.array_equal(np.asarray(spilled), rows)


def test_block_size_of_scoring_changes_no_count_and_no_score_beyond_round_off(monkeypatch):
    """Scored in blocks of 7 samples or in one block, the summary agrees with harness.scores.metrics on
    the whole arrays: counts exactly, float sums to round-off."""
    deploy = preflight(compose_config(["strategy=[frozen]"]))[0].deploy()
    n, rng = len(deploy), np.random.default_rng(1)
    record = Record(proba=rng.dirichlet(np.ones(3) * 0.3, size=n), label_used=np.ones(n, bool), latency_us=np.ones(n))
    monkeypatch.setattr(tally, "BLOCK", 7)
    small = summary_table(deploy, {"a": record}, tau=0.9).set_index("phase")
    monkeypatch.setattr(tally, "BLOCK", 10**6)
    whole = summary_table(deploy, {"a": record}, tau=0.9).set_index("phase")
    for frame in (small, whole):
        for phase, mask in (("pre", deploy.phase == "pre"), ("post", deploy.phase == "post"), ("all", slice(None))):
            y, proba = deploy.y[mask], record.proba[mask]
            row = frame.loc[phase]
            assert row.n == len(y) and row.accuracy == metrics.accuracy_score(y, proba)
            assert row.confident_error_rate == metrics.confident_error_rate(y, proba, tau=0.9)
            for column, function in (("ece", metrics.ece_error), ("brier", metrics.brier_loss),
                                     ("nll", metrics.nll_loss), ("mean_confidence", metrics.mean_confidence)):
                assert row[column] == pytest.approx(function(y, proba), rel=1e-12, abs=1e-15), (phase, column)


@pytest.mark.slow
def test_chunk_size_changes_no_prediction(runs):
    small, large = (pd.read_parquet(runs[chunk] / "predictions.parquet") for chunk in (97, 10**6))
    assert len(small) == 3 * compose_config(OVERRIDES).stream.n_deploy
    pd.testing.assert_frame_equal(untimed(small), untimed(large), check_exact=True)


@pytest.mark.slow
def test_predictions_are_written_in_row_groups_of_the_chunk(runs):
    n = compose_config(OVERRIDES).stream.n_deploy
    groups = pq.ParquetFile(runs[97] / "predictions.parquet").metadata
    sizes = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
    per_strategy = [97] * (n // 97) + ([n % 97] if n % 97 else [])
    assert sizes == per_strategy * 3
    assert pq.ParquetFile(runs[10**6] / "predictions.parquet").metadata.num_row_groups == 3


def test_written_predictions_equal_the_whole_table(tmp_path):
    """Latencies included: records written 97 samples at a time read back as the table built at once."""
    deploy = preflight(compose_config(["strategy=[frozen]"]))[0].deploy()
    n, rng = len(deploy), np.random.default_rng(0)
    records = {name: Record(proba=rng.dirichlet(np.ones(3), size=n), label_used=rng.random(n) < 0.5,
                            latency_us=rng.exponential(50.0, size=n)) for name in ("a", "b")}
    write_predictions(tmp_path / "p.parquet", deploy, records, chunk=97)
    written = pd.read_parquet(tmp_path / "p.parquet")
    assert len(written) == 2 * n
    pd.testing.assert_frame_equal(written, predictions_table(deploy, records), check_exact=True)


@pytest.mark.parametrize("drift", [["drift=sudden"], ["drift=gradual", "drift.width=300"], ["drift=novel"],
                                   ["drift.kind=covariate"], ["drift.kind=label"]])
def test_teacher_stream_does_not_depend_on_its_block_of_rows(monkeypatch, drift):
    """The teacher stream draws, moves and labels (and rotates, under concept drift) a block of rows
    at a time; the stream and the post-drift sample are the same whatever the block size."""
    from harness.streams import teacher

    def draw():
        stream = preflight(compose_config(["strategy=[frozen]", *drift]))[0]
        return stream.deploy(), stream.post_drift()

    whole, post = draw()
    monkeypatch.setattr(teacher, "ROWS", 97)
    blocks, post_blocks = draw()
    for a, b in ((whole.X, blocks.X), (whole.y, blocks.y), (whole.novel, blocks.novel), (post.X_train, post_blocks.X_train),
                 (post.y_train, post_blocks.y_train)):
        assert np.array_equal(a, b)
    assert whole.X.dtype == np.float32 and len(np.unique(whole.y[whole.phase == "post"])) > 1
