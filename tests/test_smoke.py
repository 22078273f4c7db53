from harness.run import run
from tests.conftest import compose_config


def test_tiny_run_writes_result(tmp_path):
    outcome = run(compose_config(["strategy=[frozen,river_logreg]"]), tmp_path)
    assert (tmp_path / "result.json").is_file()
    assert set(outcome.summary.strategy) == {"frozen", "river_logreg"}
