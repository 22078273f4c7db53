"""Stream generation speed, measured in one run on this machine.

- samples/s of each numpy family (teacher, gaussian_classes; a deployment stream without drift
  and one with a sudden concept drift at t=1000, so almost every sample is relabelled) against
  River's own ``Hyperplane`` generator drawing the same number of samples, as dicts and turned into
  a float array (goal: at least 10 times faster);
- the time to build each River-backed and real-data stream at its default size (constructor, offline
  data and deployment stream; River's generators run once per run, here for both concepts).

Run from the repository root: ``python benchmarks/streams.py [n_samples]``. OpenBLAS runs on one
thread unless ``OPENBLAS_NUM_THREADS`` says otherwise: on a few shared cores its threads make the
tall, thin matrix products of a stream several times slower (River's generators use no BLAS).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported

import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict  # noqa: E402

import numpy as np  # noqa: E402
from river.datasets import synth  # noqa: E402

from harness.streams import FAMILIES, build_stream  # noqa: E402
from harness.streams.schemas import SCHEMAS  # noqa: E402

DRIFT = {"kind": "concept", "pattern": "sudden", "severity": 1.0, "onset": 1000, "width": 0}


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_family_rate(family: str, n: int, kind: str) -> float:
    params = {**asdict(SCHEMAS[family]()), "n_deploy": n}
    stream = build_stream(params, {**DRIFT, "kind": kind}, seed=0)
    stream.deploy()  # warm: the teacher's balancing and drift geometry are computed once per stream
    return n / best_of(3, stream.deploy)


def river_hyperplane_rate(n: int, *, as_array: bool) -> float:
    def draw():
        rows = [list(x.values()) for x, _ in synth.Hyperplane(seed=0, n_features=10).take(n)]
        if as_array:
            np.asarray(rows, dtype=np.float32)

    return n / best_of(3, draw)


def build_time(family: str) -> float:
    def build():
        params = asdict(SCHEMAS[family]())
        onset = min(DRIFT["onset"], params["n_deploy"] // 2)  # a real data set may be shorter
        stream = build_stream(params, {**DRIFT, "kind": "concept", "onset": onset}, seed=0)
        stream.offline()
        stream.deploy()

    return best_of(1, build)


def main(n: int = 100_000) -> None:
    river = river_hyperplane_rate(n, as_array=False)
    river_array = river_hyperplane_rate(n, as_array=True)
    print(f"{n:,} samples, 10 features (teacher, gaussian_classes: 10 features, 3 classes)")
    print(f"{'River Hyperplane, dicts':<40} {river:>12,.0f} samples/s")
    print(f"{'River Hyperplane, into a float array':<40} {river_array:>12,.0f} samples/s")
    for family in ("teacher", "gaussian_classes"):
        for kind in ("none", "concept"):
            rate = numpy_family_rate(family, n, kind)
            print(f"{family + ', drift.kind=' + kind:<40} {rate:>12,.0f} samples/s  = {rate / river:5.1f} x River "
                  f"Hyperplane ({rate / river_array:.1f} x into an array)")
    print("time to build each River-backed / real-data stream at its default size (offline + deployment):")
    for family in sorted(set(FAMILIES) - {"teacher", "gaussian_classes"}):
        schema = SCHEMAS[family]()
        print(f"  {family:<14} {build_time(family):6.2f} s  ({schema.n_offline:,} + {schema.n_deploy:,} samples)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
