"""Small hand-made data, a tiny pre-deployment network and strategies built from their YAML."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.offline import optimise_and_freeze
from harness.replay import replay
from harness.checks import build_strategies
from harness.streams.base import DeployData, KnownDrift, OfflineData
from tests.conftest import compose_config

STRATEGIES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "strategy").glob("*.yaml"))
STATIC = [name for name in STRATEGIES if name.startswith(("frozen", "oracle"))]  # weights never change
K = 3
ONSET = 75  # the deployment labels are permuted from here on

# Shrunk so that every strategy does its work on a few hundred samples.
SMALL = {
    "retrain_periodic": ["strategy.retrain_periodic.every=40", "strategy.retrain_periodic.window=60",
                         "strategy.retrain_periodic.max_epochs=5"],
    # DDM fires within the few post-drift samples here; ADWIN needs more (see test_strategy_behaviour)
    "retrain_triggered": ["strategy.retrain_triggered.min_samples=30", "strategy.retrain_triggered.max_epochs=5",
                          "strategy.retrain_triggered.detector._target_=river.drift.binary.DDM"],
    "frozen_ensemble": ["strategy.frozen_ensemble.n_members=2", "strategy.frozen_ensemble.max_epochs=5"],
    # the inputs never shift here: a test at level 0.99 fires anyway, so that it takes labels and learns
    "oracle": ["strategy.oracle.max_epochs=5"],
    "oracle_switch": ["strategy.oracle_switch.max_epochs=5"],
    "retrain_on_alarm": ["strategy.retrain_on_alarm.window=20", "strategy.retrain_on_alarm.alpha=0.99",
                         "strategy.retrain_on_alarm.labels_per_alarm=30", "strategy.retrain_on_alarm.max_epochs=5"],
}  # fmt: skip


def make_data(
    seed: int = 0, n_offline: int = 120, n_deploy: int = 150, d: int = 4, onset: int = ONSET
) -> tuple[OfflineData, DeployData]:
    """Linear teacher ``y = argmax(x W)``; in deployment the labels are permuted from ``onset`` on."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, K))
    X = rng.normal(size=(n_offline + n_deploy, d)).astype(np.float32)
    y = (X @ W).argmax(axis=1).astype(np.int64)
    Xo, yo, Xd, yd = X[:n_offline], y[:n_offline], X[n_offline:], y[n_offline:].copy()
    yd[onset:] = (yd[onset:] + 1) % K
    n_train = n_offline * 3 // 4
    Xp = np.random.default_rng([seed, 1]).normal(size=(n_offline, d)).astype(np.float32)
    yp = ((Xp @ W).argmax(axis=1) + 1) % K  # the post-drift concept, for the bounds
    post = OfflineData(Xp[:n_train], yp[:n_train], Xp[n_train:], yp[n_train:])
    offline = OfflineData(Xo[:n_train], yo[:n_train], Xo[n_train:], yo[n_train:], KnownDrift(post, onset))
    t = np.arange(n_deploy)
    deploy = DeployData(
        X=Xd, y=yd, t=t, phase=np.where(t < onset, "pre", "post"),
        drift_progress=(t >= onset).astype(float), novel=np.zeros(n_deploy, bool),
    )  # fmt: skip
    return offline, deploy


def with_labels(deploy: DeployData, y: np.ndarray) -> DeployData:
    return DeployData(deploy.X, y, deploy.t, deploy.phase, deploy.drift_progress, deploy.novel)


@lru_cache(maxsize=None)
def pretrained(seed: int = 0):
    offline, _ = make_data(seed)
    return optimise_and_freeze(
        offline, model_kind="mlp", depth=1, n_classes=K,
        space={"lr": [0.01], "batch_size": [32], "weight_decay": [0.0], "width": [16]},
        n_trials=1, max_epochs=5, patience=2, calibrate=True, seed=seed,
    )  # fmt: skip


@lru_cache(maxsize=None)
def _config(name: str, overrides: tuple[str, ...]):
    return compose_config([f"strategy=[{name}]", *SMALL.get(name, []), *overrides], tiny=False)


def build(name: str, *overrides: str):
    """A fresh instance of strategy ``name`` as a run would build it from ``conf/strategy``."""
    return build_strategies(_config(name, tuple(overrides)).strategy)[name]


def run_strategy(strategy, offline: OfflineData, deploy: DeployData, **kwargs):
    """fit_offline on the tiny pre-deployment network, then the harness's replay: the Record."""
    strategy.fit_offline(offline, pretrained())
    return replay(deploy, {"s": strategy}, n_classes=K, progress=False, memory_every=50, **kwargs)["s"]
