"""Speed of the strategies through the harness, measured against the bare libraries in one run.

For every River strategy: the harness's replay (``harness.pipeline.replay.replay``, with the run's memory
measurement every ``metrics.window`` samples) against the same River model, built from the same
``conf/strategy/*.yaml`` node and warm-started on the same offline rows, in a bare test-then-train
loop (``predict_proba_one`` then ``learn_one``) over the same rows converted to dicts once inside the timed
loop (the harness converts each block when it is served and again when it learns it). Both sides are timed
interleaved, best of ``--repeats``; the ratio harness / bare is the harness's overhead (goal <= 1.10),
once as a run replays (memory measured every ``metrics.window`` samples, River's ``_raw_memory_usage``
walks the whole model) and once with a single memory measurement at the end. Both sides must reach
the same accuracy, or the comparison is void.

Then the frozen network's batched prediction throughput (samples/s) at several batch sizes.

    python benchmarks/strategies.py            # about four minutes on 2 cores
    python benchmarks/strategies.py --quick    # a few seconds, for a smoke check

It prints the path of the ``harness`` package it measures: run it with the project installed from
this checkout (or ``PYTHONPATH=.``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

import harness
from harness.offline import optimise_and_freeze
from harness.pipeline.replay import replay
from harness.strategies.frozen import Frozen
from harness.strategies.river import to_dicts
from harness.streams import build_stream
from harness.streams.schemas import SCHEMAS
from harness.validation import config
from harness.validation.checks import build_strategies
from harness.validation.config import DriftConf

CONF = Path(__file__).resolve().parents[1] / "conf"
# River strategy -> deployment samples timed (slow learners get fewer)
RIVER = {
    "no_change": 20000, "majority": 20000, "river_logreg": 20000, "river_gnb": 10000, "river_ht": 10000,
    "river_hat": 8000, "river_knn": 3000, "river_arf": 2000, "river_adwin_bagging": 2000,
    "river_lev_bagging": 1000,
}  # fmt: skip


def strategy_nodes(names: list[str]):
    config.register()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"strategy=[{','.join(names)}]"])
    return cfg


def time_harness(cfg, name, offline, deploy, n_classes, window):
    strategy = build_strategies(cfg.strategy)[name]
    strategy.fit_offline(offline, None)
    tic = time.perf_counter()
    record = replay(deploy, {name: strategy}, n_classes=n_classes, memory_every=window, progress=False)[name]
    return time.perf_counter() - tic, float(np.mean(record.proba.argmax(axis=1) == deploy.y))


def time_bare(cfg, name, offline_rows, offline_y, X, y):
    model = instantiate(cfg.strategy[name].model)
    for x, label in zip(offline_rows, offline_y):
        model.learn_one(x, label)
    answers = []
    tic = time.perf_counter()
    for x, label in zip(to_dicts(X), y):
        answers.append(model.predict_proba_one(x))
        model.learn_one(x, label)
    elapsed = time.perf_counter() - tic
    # the harness's reading of an answer: argmax by class index, lowest index on ties
    n_classes = cfg.stream.n_classes
    pred = [max(range(n_classes), key=lambda k: (a.get(k, 0.0), -k)) if a else 0 for a in answers]
    return elapsed, float(np.mean(np.asarray(pred) == np.asarray(y)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples, one repeat")
    args = parser.parse_args()
    scale, repeats = (0.1, 1) if args.quick else (1.0, args.repeats)
    torch.set_num_threads(1)

    cfg = strategy_nodes(list(RIVER))
    n_max = int(max(RIVER.values()) * scale)
    stream = build_stream(asdict(SCHEMAS["teacher"](n_offline=1000, n_deploy=n_max)), asdict(DriftConf(onset=n_max // 2)), 0)
    offline, deploy_all = stream.offline(), stream.deploy()
    offline_X = np.concatenate([offline.X_train, offline.X_val])
    offline_rows, offline_y = to_dicts(offline_X), np.concatenate([offline.y_train, offline.y_val]).tolist()
    window = cfg.metrics.window

    print(f"harness: {Path(harness.__file__).parent}")
    print(f"{'strategy':<22}{'n':>7}{'bare/s':>10}{'harness/s':>11}{'ratio':>7}{'no probes':>11}"
          "   accuracy (bare = harness)")
    for name, n in RIVER.items():
        n = int(n * scale)
        deploy = type(deploy_all)(*(getattr(deploy_all, f)[:n] for f in deploy_all.__dataclass_fields__))
        y = deploy.y.tolist()
        bare, through, unprobed = [], [], []
        for _ in range(repeats):
            bare.append(time_bare(cfg, name, offline_rows, offline_y, deploy.X, y))
            through.append(time_harness(cfg, name, offline, deploy, stream.n_classes, window))
            unprobed.append(time_harness(cfg, name, offline, deploy, stream.n_classes, n))
        b, h, u = (min(t for t, _ in times) for times in (bare, through, unprobed))
        same = "yes" if bare[0][1] == through[0][1] else f"NO ({bare[0][1]:.4f} vs {through[0][1]:.4f})"
        print(f"{name:<22}{n:>7}{n / b:>10,.0f}{n / h:>11,.0f}{h / b:>7.3f}{u / b:>11.3f}   {through[0][1]:.4f} ({same})")

    print("\nfrozen network, batched prediction (float32 numpy in, float64 probabilities out)")
    pretrained = optimise_and_freeze(
        offline, model_kind="mlp", depth=2, n_classes=stream.n_classes,
        space={"lr": [1e-3], "batch_size": [64], "weight_decay": [0.0], "width": [128]},
        n_trials=1, max_epochs=5, patience=5, calibrate=True, seed=0,
    )  # fmt: skip
    frozen = Frozen()
    frozen.fit_offline(offline, pretrained)
    X = deploy_all.X
    for batch in (1, 32, 256, 4096):
        n = min(len(X), 2000 if batch == 1 else len(X))
        best = float("inf")
        for _ in range(repeats):
            tic = time.perf_counter()
            for start in range(0, n, batch):
                frozen.predict_proba(X[start : start + batch])
            best = min(best, time.perf_counter() - tic)
        print(f"  batch {batch:>5}: {n / best:>12,.0f} samples/s")


if __name__ == "__main__":
    main()
