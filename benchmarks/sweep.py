"""Sweep costs, measured side by side in one run, on a grid whose cells share their offline data
(``replay.label_delay=range(N)``, one seed), as a severity, kind, strategy or label sweep does:

- wall time with the pre-deployment cache off (every job trains) against on (one job trains);
- per-job overhead of a cached harness job over an empty Hydra job (same number of jobs);
- the basic launcher against joblib with n_jobs=2, cache on;
- re-running the sweep when every job is finished (all skipped).

    python benchmarks/sweep.py [--jobs 24]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["stream.n_offline=600", "stream.n_deploy=800", "drift.onset=300", "metrics.window=100",
        "offline.n_trials=1", "offline.max_epochs=5", "strategy=[frozen,river_logreg]", "quiet=true",
        "hydra/hydra_logging=disabled", "hydra/job_logging=disabled"]  # fmt: skip


def timed(command: list[str]) -> float:
    tic = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=24, help="cells of the grid (seeds)")
    args = parser.parse_args()
    grid = f"replay.label_delay=range({args.jobs})"
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def harness(name: str, *extra: str) -> float:
            return timed([python, "-m", "harness.run", "-m", grid, *TINY, *extra, f"hydra.sweep.dir={tmp / name}",
                          f"offline.cache_dir={tmp / ('cache-' + name)}"])

        empty = timed([python, "benchmarks/empty_app.py", "-m", f"+x=range({args.jobs})",
                       f"hydra.sweep.dir={tmp / 'empty'}", "hydra/hydra_logging=disabled"])
        uncached = harness("uncached", "offline.cache=false")
        basic = harness("basic")
        joblib = harness("joblib", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
        skipped = harness("basic")
    n = args.jobs
    print(f"{n} jobs sharing their offline data, each: {TINY[0]}, {TINY[1]}, two strategies, one search trial")
    print(f"empty Hydra job sweep:            {empty:6.2f} s  ({empty / n * 1000:6.0f} ms/job)")
    print(f"harness sweep, cache off:         {uncached:6.2f} s  ({uncached / n * 1000:6.0f} ms/job)")
    print(f"harness sweep, cache on:          {basic:6.2f} s  ({basic / n * 1000:6.0f} ms/job)"
          f"  -> {uncached / basic:.2f}x faster")
    print(f"harness sweep, joblib n_jobs=2:   {joblib:6.2f} s  -> speed-up over basic {basic / joblib:.2f}x")
    print(f"re-run, all {n} jobs skipped:     {skipped:6.2f} s  ({skipped / basic:.2f} of the first run)")
    print(f"per-job overhead over an empty Hydra job: {(basic - empty) / n:.2f} s")


if __name__ == "__main__":
    main()
