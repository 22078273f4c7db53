"""Random search against TPE (with pruning) at equal trial budgets, per stream family.

For each stream, seed, sampler and budget, runs the pre-deployment search exactly as a run does
(``harness.offline.optimise_and_freeze`` on the stream's offline data, the run's ``offline`` settings)
and prints the best validation loss, the validation accuracy, the deployment accuracy of the frozen
model before the onset (the samples ``t < drift.onset``, which the search never saw), the number of
trials run and pruned, the epochs trained in all (the cost) and the wall time::

    python benchmarks/tuning.py --streams teacher gaussian_classes --budgets 6 20 50 --seeds 0 1

Both samplers run ``min(budget, grid size)`` trials: the default grid ``offline.search`` has 36
points, so a budget of 50 is the whole grid for random search.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from harness.offline import optimise_and_freeze
from harness.offline.models import predict_proba
from harness.offline.tune import grid_size
from harness.scores import metrics
from harness.streams import build_stream
from harness.validation import config

CONF = Path(__file__).resolve().parents[1] / "conf"


def measure(stream_name: str, seed: int, sampler: str, budget: int) -> dict:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"stream={stream_name}", f"seed={seed}"])
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    offline, deploy = stream.offline(), stream.deploy()
    space = OmegaConf.to_container(cfg.offline.search)
    torch.set_num_threads(1)
    started = time.perf_counter()
    pretrained = optimise_and_freeze(
        offline, model_kind=cfg.model.kind, depth=cfg.model.depth, n_classes=stream.n_classes, space=space,
        n_trials=budget, max_epochs=cfg.offline.max_epochs, patience=cfg.offline.patience,
        calibrate=cfg.offline.calibrate, seed=seed, sampler=sampler, pruner=cfg.offline.pruner,
    )
    wall = time.perf_counter() - started
    search = pd.DataFrame(pretrained.search)
    chosen = search[search["selected"]].iloc[0]
    pre = deploy.t < stream.schedule.onset
    proba = predict_proba(pretrained.module, deploy.X[pre]).numpy().astype(np.float64)
    return {
        "stream": stream_name, "seed": seed, "sampler": sampler, "budget": budget,
        "trials": len(search), "pruned": int((search["state"] == "pruned").sum()),
        "epochs": int(search["epochs"].sum()), "val_loss": chosen["val_loss"], "val_acc": chosen["val_accuracy"],
        "deploy_pre_acc": metrics.accuracy_score(deploy.y[pre], proba), "wall_s": wall,
        "grid": grid_size(space),
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", nargs="+", default=["teacher", "gaussian_classes"])
    parser.add_argument("--budgets", nargs="+", type=int, default=[6, 20, 50])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--samplers", nargs="+", default=["random", "tpe"])
    args = parser.parse_args(argv)
    config.register()
    rows = []
    for stream_name in args.streams:
        for seed in args.seeds:
            for budget in args.budgets:
                for sampler in args.samplers:
                    rows.append(measure(stream_name, seed, sampler, budget))
                    print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1,
                                                            float_format=lambda v: f"{v:.4f}"), flush=True)
    table = pd.DataFrame(rows)
    print()
    mean = table.groupby(["stream", "budget", "sampler"])[["trials", "pruned", "epochs", "val_loss", "val_acc",
                                                            "deploy_pre_acc", "wall_s"]].mean()
    print(mean.to_string(float_format=lambda v: f"{v:.4f}"))
    return table


if __name__ == "__main__":
    main()
