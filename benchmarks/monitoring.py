"""What label-free monitoring adds to the default run, measured side by side in one run.

The default experiment (``python -m harness.run``) is run in this process with ``monitor=off`` and
with monitoring on (the default), alternating, best of ``--repeats``; the printed ratio is
on / off (goal <= 1.20). The monitoring step alone is also timed on the same data, so that the
ratio can be read without the noise of the rest of the run.

    python benchmarks/monitoring.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from harness.monitor import monitor_run
from harness.offline import optimise_and_freeze
from harness.pipeline.experiment import seed_everything
from harness.run import run
from harness.streams import build_stream
from harness.validation import config

CONF = Path(__file__).resolve().parents[1] / "conf"


def composed(overrides: list[str]):
    config.register()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=["quiet=true", *overrides])


def monitor_only(cfg, repeats: int) -> float:
    """Best time of the monitoring step alone on the default run's stream and frozen model."""
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    seed_everything(cfg.seed, cfg.threads)
    offline, deploy = stream.offline(), stream.deploy()
    pretrained = optimise_and_freeze(
        offline, model_kind=cfg.model.kind, depth=cfg.model.depth, n_classes=stream.n_classes,
        space=OmegaConf.to_container(cfg.offline.search), n_trials=cfg.offline.n_trials,
        max_epochs=cfg.offline.max_epochs, patience=cfg.offline.patience, calibrate=cfg.offline.calibrate,
        seed=cfg.seed,
    )
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        monitor_run(cfg, ["frozen"], pretrained.module, offline, deploy, stream.schedule,
                    n_classes=stream.n_classes)
        best = min(best, time.perf_counter() - tic)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    on_cfg, off_cfg = composed([]), composed(["monitor=off"])
    on_s, off_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.repeats):
            for cfg, times, name in ((off_cfg, off_s, "off"), (on_cfg, on_s, "on")):
                tic = time.perf_counter()
                run(cfg, Path(tmp) / f"{name}{index}")
                times.append(time.perf_counter() - tic)
    alone = monitor_only(on_cfg, repeats=3)
    print(f"default run, repeats: {args.repeats} (best of each); deployment samples: {on_cfg.stream.n_deploy}")
    print(f"monitor=off: {min(off_s):.2f} s   (all: {', '.join(f'{t:.2f}' for t in off_s)})")
    print(f"monitor on:  {min(on_s):.2f} s   (all: {', '.join(f'{t:.2f}' for t in on_s)})")
    print(f"monitoring step alone: {alone:.2f} s = {alone / min(off_s):.1%} of the run without it")
    print(f"ratio on / off: {min(on_s) / min(off_s):.3f}  (goal <= 1.20)")


if __name__ == "__main__":
    main()
