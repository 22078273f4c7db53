"""Long streams: the predictions are written in row groups of ``replay.chunk`` samples, and the chunk
size changes no number of any table."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from harness.preflight import preflight
from harness.replay import Record
from harness.run import run
from harness.summary import predictions_table, write_predictions
from tests.conftest import compose_config

# Columns that are measured times (or follow from them), which differ between any two runs.
TIMED = {"predict_s", "learn_s", "samples_per_s", "latency_p50_us", "latency_p99_us", "latency_p999_us",
         "latency_jitter", "latency_max_us", "peak_rss_bytes", "latency_us"}
OVERRIDES = ["strategy=[frozen,finetune]", "replay.label_fraction=0.8"]


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


@pytest.mark.parametrize("name", ["summary.csv", "windows.csv", "costs.csv", "stream_timeline.csv"])
def test_chunk_size_changes_no_number(runs, name):
    small, large = (pd.read_csv(runs[chunk] / name) for chunk in (97, 10**6))
    pd.testing.assert_frame_equal(untimed(small), untimed(large), check_exact=True)


def test_chunk_size_changes_no_prediction(runs):
    small, large = (pd.read_parquet(runs[chunk] / "predictions.parquet") for chunk in (97, 10**6))
    assert len(small) == 2 * compose_config(OVERRIDES).stream.n_deploy
    pd.testing.assert_frame_equal(untimed(small), untimed(large), check_exact=True)


def test_predictions_are_written_in_row_groups_of_the_chunk(runs):
    n = compose_config(OVERRIDES).stream.n_deploy
    groups = pq.ParquetFile(runs[97] / "predictions.parquet").metadata
    sizes = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
    per_strategy = [97] * (n // 97) + ([n % 97] if n % 97 else [])
    assert sizes == per_strategy * 2
    assert pq.ParquetFile(runs[10**6] / "predictions.parquet").metadata.num_row_groups == 2


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


@pytest.mark.parametrize("pattern", ["sudden", "gradual"])
def test_teacher_labels_do_not_depend_on_its_block_of_rows(monkeypatch, pattern):
    """The teacher stream labels (and rotates, under concept drift) a block of rows at a time; the
    stream is the same whatever the block size."""
    from harness.streams import teacher

    def deploy():
        cfg = compose_config(["strategy=[frozen]", f"drift={pattern}", "drift.width=300"])
        return preflight(cfg)[0].deploy()

    whole = deploy()
    monkeypatch.setattr(teacher, "ROWS", 97)
    blocks = deploy()
    assert np.array_equal(whole.X, blocks.X) and np.array_equal(whole.y, blocks.y)
    assert len(np.unique(whole.y[whole.phase == "post"])) > 1
