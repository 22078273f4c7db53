"""Small hand-made data, a tiny pre-deployment network and strategies built from their YAML."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from hydra.utils import get_object
from omegaconf import OmegaConf

from harness.pipeline.replay import replay
from harness.pipeline.testing import ONSET, make_data, pretrained_network, with_labels
from harness.strategies.base import Tags, tags
from harness.streams.base import DeployData, OfflineData
from harness.validation.checks import build_strategies
from tests.conftest import compose_config

__all__ = ["K", "ONSET", "STATIC", "STRATEGIES", "build", "make_data", "pretrained", "run_strategy", "strategy_tags",
           "with_labels"]

CONF = Path(__file__).resolve().parents[1] / "conf" / "strategy"
STRATEGIES = sorted(p.stem for p in CONF.glob("*.yaml"))


def strategy_tags(name: str) -> Tags:
    """The tags the class of ``conf/strategy/<name>.yaml`` declares (nothing is built)."""
    return tags(get_object(OmegaConf.load(CONF / f"{name}.yaml")[name]._target_))


STATIC = [name for name in STRATEGIES if strategy_tags(name).family == "static"]  # weights never change
K = 3  # make_data's classes

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


def pretrained(seed: int = 0):
    """The tiny pre-deployment network for ``make_data(seed)`` (cached)."""
    return pretrained_network(seed, K)


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
