"""Sweep costs, measured side by side in one run, on a grid whose cells share their offline data
(``replay.label_delay=range(N)``, one seed), as a severity, kind, strategy or label sweep does:

- wall time with the pre-deployment cache off (every job trains) against on (one job trains);
- per-job overhead of a cached harness job over an empty Hydra job (same number of jobs);
- the basic launcher against joblib with n_jobs=2, cache on;
- re-running the sweep when every job is finished (all skipped).

    python benchmarks/sweep.py [--jobs 24] [--before DIR]

``--before DIR`` measures another checkout too (e.g. an export of an earlier commit), in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("empty", "uncached", "basic", "joblib", "skipped")
TINY = ["stream.n_offline=600", "stream.n_deploy=800", "drift.onset=300", "metrics.window=100",
        "offline.n_trials=1", "offline.max_epochs=5", "strategy=[frozen,river_logreg]", "quiet=true",
        "hydra/hydra_logging=disabled", "hydra/job_logging=disabled"]  # fmt: skip


def timed(command: list[str], root: Path = ROOT) -> float:
    tic = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(root)}  # the checkout's own harness, not an installed one
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    return time.perf_counter() - tic


def measure(roots: list[Path], jobs: int, steps: list[str]) -> list[dict[str, float]]:
    """Seconds of each sweep of ``jobs`` cells, for the code in each of ``roots``; the checkouts take
    turns sweep by sweep, so that a change in the machine's load falls on all of them alike."""
    grid = f"replay.label_delay=range({jobs})"
    python = sys.executable
    times: list[dict[str, float]] = [{} for _ in roots]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def harness(root: Path, name: str, *extra: str) -> float:
            return timed([python, "-m", "harness.run", "-m", grid, *TINY, *extra, f"hydra.sweep.dir={tmp / name}",
                          f"offline.cache_dir={tmp / ('cache-' + name)}"], root)

        sweeps = {
            "empty": lambda root, i: timed([python, str(ROOT / "benchmarks" / "empty_app.py"), "-m",
                                            f"+x=range({jobs})", f"hydra.sweep.dir={tmp / f'empty{i}'}",
                                            "hydra/hydra_logging=disabled"], root),
            "uncached": lambda root, i: harness(root, f"uncached{i}", "offline.cache=false"),
            "basic": lambda root, i: harness(root, f"basic{i}"),
            "joblib": lambda root, i: harness(root, f"joblib{i}", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
            "skipped": lambda root, i: harness(root, f"basic{i}"),
        }
        for step, work in sweeps.items():
            for i, root in enumerate(roots):
                times[i][step] = work(root, i) if step in steps else float("nan")
                print(f"  {step} ({root}): {times[i][step]:.2f} s", file=sys.stderr, flush=True)
    return times


def report(times: dict[str, float], n: int) -> None:
    empty, uncached, basic, joblib, skipped = (times[k] for k in ("empty", "uncached", "basic", "joblib", "skipped"))
    print(f"empty Hydra job sweep:            {empty:6.2f} s  ({empty / n * 1000:6.0f} ms/job)")
    print(f"harness sweep, cache off:         {uncached:6.2f} s  ({uncached / n * 1000:6.0f} ms/job)")
    print(f"harness sweep, cache on:          {basic:6.2f} s  ({basic / n * 1000:6.0f} ms/job)"
          f"  -> {uncached / basic:.2f}x faster")
    print(f"harness sweep, joblib n_jobs=2:   {joblib:6.2f} s  -> speed-up over basic {basic / joblib:.2f}x")
    print(f"re-run, all {n} jobs skipped:     {skipped:6.2f} s  ({skipped / basic:.2f} of the first run)")
    print(f"per-job overhead over an empty Hydra job: {(basic - empty) / n:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=24, help="cells of the grid")
    parser.add_argument("--before", type=Path, help="another checkout to measure too, taking turns sweep by sweep")
    parser.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS,
                        help="the sweeps to run (the others print nan; skipped needs basic)")
    args = parser.parse_args()
    n = args.jobs
    load = os.getloadavg()[0]
    roots = [args.before.resolve(), ROOT] if args.before else [ROOT]
    times = measure(roots, n, args.steps)
    print(f"{n} jobs sharing their offline data, each: {TINY[0]}, {TINY[1]}, two strategies, one search trial"
          f" (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
    for root, measured in zip(roots, times):
        if len(roots) > 1:
            print(f"-- {root}:")
        report(measured, n)


if __name__ == "__main__":
    main()
