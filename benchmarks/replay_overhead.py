"""Harness replay of ``river_logreg`` against a bare ``river.evaluate.progressive_val_score``.

Both replay the same stream from the same warm start, in this process, alternating, best of
``--repeats``; the printed ratio is harness time / bare time (goal <= 1.10). Both start from the same
numpy arrays: the bare loop reads them with River's own ``stream.iter_array`` (as a River user
would), the harness converts them inside its replay. A second line gives the bare loop the rows
already converted to dicts, to show what the conversion itself costs.
The harness replays at its default ``serve_batch=1`` (per-request latency), which for a River learner
(``step=1``) is the same loop as the batched replay: the ratio is the cost of the timing, the label
bookkeeping and the memory probes around River's own calls.

    python benchmarks/replay_overhead.py [--n 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

from river import compose, evaluate, linear_model, metrics, multiclass, preprocessing
from river import stream as river_stream

from harness.pipeline.replay import replay
from harness.strategies.river import RiverClassifier, feature_names, to_dicts
from harness.streams import DriftSchedule
from harness.streams.teacher import TeacherStream


def fresh_model(offline):
    model = compose.Pipeline(preprocessing.StandardScaler(), multiclass.OneVsRestClassifier(linear_model.LogisticRegression()))
    for X, y in ((offline.X_train, offline.y_train), (offline.X_val, offline.y_val)):
        for row, label in zip(to_dicts(X), y.tolist()):
            model.learn_one(row, label)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="deployment samples")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    stream = TeacherStream(DriftSchedule("concept", "sudden", 1.0, args.n // 3, 0), n_deploy=args.n, n_offline=2000)
    offline, deploy = stream.offline(), stream.deploy()
    names = list(feature_names(stream.n_features))
    converted = list(zip(to_dicts(deploy.X), deploy.y.tolist()))

    bare_s, converted_s, harness_s = [], [], []
    for _ in range(args.repeats):
        model = fresh_model(offline)
        tic = time.perf_counter()
        pairs = river_stream.iter_array(deploy.X, deploy.y, feature_names=names)
        bare_accuracy = evaluate.progressive_val_score(pairs, model, metrics.Accuracy()).get()
        bare_s.append(time.perf_counter() - tic)

        model = fresh_model(offline)
        tic = time.perf_counter()
        evaluate.progressive_val_score(converted, model, metrics.Accuracy())
        converted_s.append(time.perf_counter() - tic)

        strategy = RiverClassifier(model=fresh_model(offline), n_classes=stream.n_classes)
        tic = time.perf_counter()
        record = replay(deploy, {"river_logreg": strategy}, n_classes=stream.n_classes, progress=False,
                        memory_every=args.n)  # fmt: skip
        harness_s.append(time.perf_counter() - tic)
        harness_accuracy = float((record["river_logreg"].proba.argmax(axis=1) == deploy.y).mean())

    print(f"samples: {args.n}, repeats: {args.repeats} (best of each)")
    print(f"bare progressive_val_score: {min(bare_s):.3f} s  ({args.n / min(bare_s):,.0f} samples/s)")
    print(f"  same, rows pre-converted: {min(converted_s):.3f} s  ({args.n / min(converted_s):,.0f} samples/s)")
    print(f"harness replay:             {min(harness_s):.3f} s  ({args.n / min(harness_s):,.0f} samples/s)")
    print(f"accuracy bare {bare_accuracy:.4f} / harness {harness_accuracy:.4f}")
    print(f"ratio harness / bare: {min(harness_s) / min(bare_s):.3f}  (goal <= 1.10)")
    print(f"ratio harness / bare with pre-converted rows: {min(harness_s) / min(converted_s):.3f}")


if __name__ == "__main__":
    main()
