"""Time per sample and peak memory of whole runs as the deployment stream grows.

Each (run, size) is one ``python -m harness.run`` in a fresh process (a run: one strategy, or several
joined by commas, by default ``frozen,finetune`` and ``river_logreg``; ``monitor=off`` unless ``--monitor``, the
drift onset at half the stream, the default teacher stream and sudden concept drift), sharing one
offline cache so that every run replays the same frozen model. Printed per run: the replay's time per
sample (``costs.csv``: predict + learn time over samples), the whole run's wall time per sample, and
the process's peak resident memory: the larger of the child's ``ru_maxrss`` (``os.wait4``) and its
``VmRSS`` polled every 50 ms, because the replay resets the kernel's high-water mark before each
strategy (``harness.pipeline.replay.reset_peak_rss``), which hides the peak of the stream's generation. River learners are
run up to ``--river-max`` samples (their prepared feature dicts grow with the stream). Runs are
batched (``replay.serve_batch=0``: one predict call per ``step`` block) unless overrides say otherwise,
so that every size is served alike: at the default ``serve_batch=1`` a stream of up to
``replay.latency_requests`` samples is served one request per call and a longer one mostly batched.

    python benchmarks/scale.py [--sizes 100000 1000000 10000000] [--strategies frozen,finetune river_logreg]
                               [--overrides replay.serve_batch=0 ...] [--monitor]

The default configuration with monitoring on, at ten million samples (River included):

    python benchmarks/scale.py --strategies default --monitor --sizes 10000000 --river-max 10000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def resident_bytes(pid: int) -> int:
    """``VmRSS`` of a live process in bytes (0 where ``/proc`` does not say)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_once(strategy: str, n: int, root: Path, cache: Path, overrides: list[str], monitor: bool = False) -> list[dict]:
    """One run in a child process (``strategy``: one name, names joined by commas for a run of
    several, or ``default`` for the default configuration's strategies): per strategy its replay
    time per sample, and the run's wall time per sample and peak RSS. ``monitor``: label-free
    monitoring on (``monitor=default``), else off."""
    out = root / f"{strategy.replace(',', '+')}-{n}"
    chosen = [] if strategy == "default" else [f"strategy=[{strategy}]"]
    command = [sys.executable, "-m", "harness.run", f"stream.n_deploy={n}", f"drift.onset={n // 2}",
               *chosen, f"monitor={'default' if monitor else 'off'}", "figures=false", "quiet=true",
               f"hydra.run.dir={out}", f"offline.cache_dir={cache}", *overrides]
    tic = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    polled = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        polled = max(polled, resident_bytes(child.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - tic
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{child.stderr.read().decode()[-2000:]}")
    child.stderr.close()
    costs = pd.read_csv(out / "costs.csv").set_index("strategy")
    peak = max(polled, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024))  # macOS: bytes; Linux: kB
    return [{"strategy": name, "run": strategy, "n_deploy": n,
             "replay_us_per_sample": 1e6 * (costs.predict_s[name] + costs.learn_s[name]) / n,
             "run_us_per_sample": 1e6 * wall / n, "wall_s": wall, "peak_rss_gb": peak / 1e9}
            for name in costs.index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--strategies", nargs="+", default=["frozen,finetune", "river_logreg"],
                        help="one run per size of each; frozen,finetune: both strategies in one run")
    parser.add_argument("--river-max", type=int, default=1_000_000, help="largest stream for river_* strategies")
    parser.add_argument("--overrides", nargs="*", default=["replay.serve_batch=0"], help="more run overrides")
    parser.add_argument("--monitor", action="store_true", help="label-free monitoring on (monitor=default)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="harness-scale-") as tmp:
        root = Path(tmp)
        for strategy in args.strategies:
            for n in sorted(args.sizes):
                if strategy.startswith("river_") and n > args.river_max:
                    continue
                new = run_once(strategy, n, root, root / "cache", args.overrides, args.monitor)
                print(pd.DataFrame(new).to_string(index=False, header=not rows, float_format=lambda v: f"{v:.3f}"),
                      flush=True)
                rows += new
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for strategy, part in table.groupby("strategy", sort=False):
        cost = part.replay_us_per_sample
        print(f"{strategy}: replay cost per sample varies {cost.max() / cost.min() - 1:.0%} from "
              f"{part.n_deploy.min():,} to {part.n_deploy.max():,} samples (goal: within 20%); "
              f"peak RSS {part.peak_rss_gb.max():.2f} GB")


if __name__ == "__main__":
    main()
