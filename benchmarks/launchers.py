"""The launchers side by side on a study's sweep as a user runs it: the 24 cells of the severity study
(3 kinds x 4 severities x 2 seeds, the study's size per job; closing tables and figures included), its
offline cache filled first by one run per seed, then swept by the basic launcher, joblib with 2 workers
and Ray with 2 workers (``hydra/launcher=ray_cluster``), one after another into sweep directories of
their own. Each sweep's numbers are checked against the basic launcher's (``runs.parquet`` without
times); the load average is printed before and after. Needs the ``ray`` extra (docs/launchers.md):

    python benchmarks/launchers.py [--launchers basic joblib ray]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from sweep import STUDY, runs_time, timed  # benchmarks/sweep.py: run as a script, its folder is on the path

LAUNCHERS = {
    "basic": [],
    "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "ray": ["hydra/launcher=ray_cluster", "hydra.launcher.ray.init.num_cpus=2"],
}
KEYS = ["drift.kind", "drift.severity", "seed", "strategy", "phase"]
MEASURED = ["samples_per_s"]  # runs.parquet's columns that are times


def numbers(sweep: Path) -> pd.DataFrame:
    runs = pd.read_parquet(sweep / "runs.parquet")
    runs = runs.drop(columns=["run", *[c for c in MEASURED if c in runs]])
    return runs.sort_values(KEYS).reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launchers", nargs="+", default=list(LAUNCHERS), choices=list(LAUNCHERS))
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = f"offline.cache_dir={tmp / 'cache'}"
        for seed in (0, 1):  # the offline data depend on the seed only: one run per seed fills the cache
            timed([sys.executable, "-m", "harness.run", STUDY[0], "hydra.mode=RUN", f"seed={seed}", "quiet=true",
                   f"hydra.run.dir={tmp / f'warm{seed}'}", cache])
        rows, reference = [], None
        for name in args.launchers:
            sweep = tmp / name
            wall = timed([sys.executable, "-m", "harness.run", *STUDY, *LAUNCHERS[name], f"hydra.sweep.dir={sweep}",
                          cache])
            same = "" if reference is None else numbers(sweep).equals(reference)
            reference = numbers(sweep) if reference is None else reference
            rows.append((name, wall, runs_time(sweep), same))
            print(f"  {name}: {wall:.1f} s", file=sys.stderr, flush=True)
    print(f"severity study, 24 cached cells, figures included (load average {load:.2f} before,"
          f" {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores)")
    print("| launcher | sweep (s) | its runs' wall_time_s (s) | same numbers as the first |")
    print("|---|---|---|---|")
    for name, wall, runs, same in rows:
        print(f"| {name} {' '.join(LAUNCHERS[name])} | {wall:.1f} | {runs:.1f} | {same} |")


if __name__ == "__main__":
    main()
