"""Stream generation speed, measured in one run on this machine.

- samples/s of each numpy family (teacher, gaussian_classes; a deployment stream with a sudden
  concept drift) against River's own ``Hyperplane`` generator drawing the same number of samples
  (goal: at least 10 times faster);
- the time to build each River-backed and real-data stream at its default size (constructor, offline
  data and deployment stream; River's generators run once per run, here for both concepts).

Run from the repository root: ``python benchmarks/streams.py [n_samples]``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict

from river.datasets import synth

from harness.streams import FAMILIES, build_stream
from harness.streams.schemas import SCHEMAS

DRIFT = {"kind": "concept", "pattern": "sudden", "severity": 1.0, "onset": 1000, "width": 0}


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_family_rate(family: str, n: int) -> float:
    params = {**asdict(SCHEMAS[family]()), "n_deploy": n}
    stream = build_stream(params, DRIFT, seed=0)
    stream.deploy()  # warm: the teacher's balancing and drift geometry are computed once per stream
    return n / best_of(3, stream.deploy)


def river_hyperplane_rate(n: int) -> float:
    def draw():
        for _ in synth.Hyperplane(seed=0, n_features=10).take(n):
            pass

    return n / best_of(3, draw)


def build_time(family: str) -> float:
    def build():
        stream = build_stream(asdict(SCHEMAS[family]()), {**DRIFT, "kind": "concept"}, seed=0)
        stream.offline()
        stream.deploy()

    return best_of(1, build)


def main(n: int = 100_000) -> None:
    river = river_hyperplane_rate(n)
    print(f"River Hyperplane (10 features): {river:>12,.0f} samples/s  ({n:,} samples)")
    for family in ("teacher", "gaussian_classes"):
        rate = numpy_family_rate(family, n)
        print(f"{family:<31} {rate:>12,.0f} samples/s  = {rate / river:5.1f} x River Hyperplane")
    print("time to build each River-backed / real-data stream at its default size (offline + deployment):")
    for family in sorted(set(FAMILIES) - {"teacher", "gaussian_classes"}):
        schema = SCHEMAS[family]()
        print(f"  {family:<14} {build_time(family):6.2f} s  ({schema.n_offline:,} + {schema.n_deploy:,} samples)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
