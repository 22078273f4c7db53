"""Every study preset composes, and runs end to end at a tiny size: its sweep, report and figures."""

import os
import sys
from pathlib import Path

import pytest

from tests import preloaded
from tests.conftest import CONF, compose_with_hydra

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml") if p.stem != "quick_sweep")
TINY = ["stream.n_offline=600", "stream.n_deploy=800", "drift.onset=300", "drift.width=100", "metrics.window=100",
        "offline.n_trials=1", "offline.max_epochs=5", "quiet=true", "hydra/hydra_logging=disabled",
        "hydra/job_logging=disabled"]  # fmt: skip


def sweep_params(study: str) -> dict[str, str]:
    cfg = compose_with_hydra([f"experiment={study}"])
    return {key: str(value) for key, value in cfg.hydra.sweeper.params.items()}


@pytest.mark.parametrize("study", STUDIES)
def test_study_composes_as_a_sweep_with_its_own_directory(study):
    params = sweep_params(study)
    assert params, f"{study} defines no grid"
    assert any("," in values for values in params.values())


@pytest.mark.slow
@pytest.mark.parametrize("study", [s for s in STUDIES if not s.endswith("_full")])
def test_study_runs_tiny_and_draws_its_figures(study, tmp_path):
    # Two values of the first swept key, the first value of every other one: the grid stays a grid.
    params = sweep_params(study)
    first, *rest = params
    grid = [f"{first}={','.join(params[first].split(',')[:2])}"] + [f"{k}={params[k].split(',')[0]}" for k in rest]
    sweep = tmp_path / study
    done = preloaded.run(
        [sys.executable, "-m", "harness.run", f"experiment={study}", *TINY, *grid, f"hydra.sweep.dir={sweep}"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 done, 0 skipped, 0 failed" in done.stderr
    assert (sweep / "runs.parquet").is_file() and (sweep / "comparison_post.md").is_file()
    assert list((sweep / "figures").glob("*.png")), "no figure drawn"
