"""Wall time of a study's sweep, measured side by side in one run: the pre-deployment cache off
(every job trains its model) against the default (train once per seed), optionally also with the
code of another checkout (``--before DIR``: e.g. an export of the commit before a change).

    python benchmarks/study_speed.py [--study severity] [--seeds 0,1,2,3,4] [--before DIR]

Each variant runs ``python -m harness.run experiment=<study>`` into a fresh temporary sweep
directory with its own cache, so nothing is reused between variants. ``--seeds`` replaces the
study's seed list (fewer seeds: fewer jobs, the same size per job).
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


def sweep_time(root: Path, tmp: Path, name: str, study: str, seeds: str | None, *extra: str) -> float:
    """Seconds to run the study's sweep with the code in ``root``."""
    command = [sys.executable, "-m", "harness.run", f"experiment={study}", "quiet=true",
               f"hydra.sweep.dir={tmp / name}", f"offline.cache_dir={tmp / ('cache-' + name)}", *extra]
    if seeds:
        command.append(f"seed={seeds}")
    env = {**os.environ, "PYTHONPATH": str(root)}  # the checkout's own harness, not an installed one
    tic = time.perf_counter()
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", default="severity")
    parser.add_argument("--seeds", help="comma-separated seeds instead of the study's (e.g. 0)")
    parser.add_argument("--before", type=Path, help="another checkout, run with offline.cache=false first")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = []
        if args.before:
            rows.append((f"{args.before}, cache off", sweep_time(args.before.resolve(), tmp, "before", args.study,
                                                                  args.seeds, "offline.cache=false")))
        rows.append(("this checkout, cache off", sweep_time(ROOT, tmp, "off", args.study, args.seeds,
                                                            "offline.cache=false")))
        rows.append(("this checkout, default (cache on)", sweep_time(ROOT, tmp, "on", args.study, args.seeds)))
    print(f"study {args.study}, seeds {args.seeds or 'as in the preset'} (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
    for label, seconds in rows:
        print(f"  {label:<45} {seconds:8.1f} s  -> {rows[0][1] / seconds:5.2f}x")


if __name__ == "__main__":
    main()
