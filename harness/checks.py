"""Everything checked and built before any compute: strategies from their config, the ranges no
builder checks, and the strategy names of a command line (a bad value fails here, with the key,
the value and what is allowed)."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig

from harness.errors import ConfigError
from harness.models import MODEL_KINDS
from harness.strategies.base import missing_members

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def build_strategies(strategy_cfg: DictConfig) -> dict:
    """Instantiate every configured strategy; unknown arguments fail with the allowed ones."""
    if not strategy_cfg:
        raise ConfigError("strategy=[] is empty; choose at least one, e.g. strategy=[frozen,river_logreg]")
    strategies = {}
    for name, node in strategy_cfg.items():
        target = node.get("_target_") if isinstance(node, DictConfig) else None
        if target is None:
            raise ConfigError(f"strategy.{name} has no _target_ (a class implementing the strategy protocol)")
        try:
            cls = get_class(target)
        except Exception as error:
            raise ConfigError(f"strategy.{name}._target_={target!r} cannot be imported: {error}") from None
        allowed = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
        unknown = [key for key in node if not str(key).startswith("_") and key not in allowed]
        if unknown:
            raise ConfigError(f"strategy.{name}.{unknown[0]} is not an argument of {target}; allowed: {allowed}")
        try:
            strategies[name] = instantiate(node)
        except Exception as error:
            raise ConfigError(f"strategy.{name} could not be built: {error}") from None
        missing = missing_members(strategies[name])
        if missing:
            raise ConfigError(f"strategy.{name}._target_={target!r} lacks the strategy protocol's {missing}")
    return strategies


def check_config(cfg: DictConfig) -> None:
    """The range checks that no builder does; raise ConfigError before any compute."""
    checks = [
        ("model.kind", cfg.model.kind, cfg.model.kind in MODEL_KINDS, f"one of {list(MODEL_KINDS)}"),
        ("model.depth", cfg.model.depth, cfg.model.depth >= 0, ">= 0"),
        ("offline.n_trials", cfg.offline.n_trials, cfg.offline.n_trials >= 1, ">= 1"),
        ("offline.max_epochs", cfg.offline.max_epochs, cfg.offline.max_epochs >= 1, ">= 1"),
        ("offline.patience", cfg.offline.patience, cfg.offline.patience >= 1, ">= 1"),
        ("replay.label_delay", cfg.replay.label_delay, 0 <= cfg.replay.label_delay < cfg.stream.n_deploy,
         f"in [0, stream.n_deploy={cfg.stream.n_deploy})"),
        ("replay.label_fraction", cfg.replay.label_fraction, 0.0 < cfg.replay.label_fraction <= 1.0, "in (0, 1]"),
        ("replay.serve_batch", cfg.replay.serve_batch, cfg.replay.serve_batch >= 0,
         ">= 0 (0: one predict call per step block)"),
        ("metrics.max_detection_delay", cfg.metrics.max_detection_delay, cfg.metrics.max_detection_delay >= 0,
         ">= 0"),
        ("metrics.confidence_threshold", cfg.metrics.confidence_threshold,
         0.0 <= cfg.metrics.confidence_threshold <= 1.0, "in [0, 1]"),
        ("metrics.window", cfg.metrics.window, 1 <= cfg.metrics.window <= cfg.stream.n_deploy,
         f"in [1, stream.n_deploy={cfg.stream.n_deploy}]"),
        ("metrics.recovery_tolerance", cfg.metrics.recovery_tolerance, cfg.metrics.recovery_tolerance >= 0, ">= 0"),
        ("threads", cfg.threads, cfg.threads >= 1, ">= 1"),
    ]  # fmt: skip
    for key, value, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"{key}={value} is invalid: must be {allowed}")
    for key, values in cfg.offline.search.items():
        if not values:
            raise ConfigError(f"offline.search.{key}=[] is empty; give at least one value")
        if min(values) < 0 or (key != "weight_decay" and min(values) <= 0):
            raise ConfigError(f"offline.search.{key}={list(values)} must hold positive values")


def check_strategy_list(argv: list[str]) -> None:
    """Hydra lists the available options for ``strategy=x`` but not for ``strategy=[x,y]``: do it here."""
    available = sorted(path.stem for path in (CONF_DIR / "strategy").glob("*.yaml"))
    for arg in argv:
        match = re.fullmatch(r"strategy=\[(.*)\]", arg)
        names = [name.strip() for name in match.group(1).split(",")] if match else []
        unknown = [name for name in names if name and name not in available]
        if unknown:
            print(f"error: strategy={unknown[0]} is not a strategy; available: {available}", file=sys.stderr)
            sys.exit(2)
