"""Monitoring inside a run: check its config before any compute, then watch and score every
monitored strategy and gather the four tables of the results contract."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig

from harness.monitor.score import score
from harness.monitor.watch import DETECTORS, ESTIMATORS, SCORES, Reference, watch
from harness.offline.models import Calibrated
from harness.streams.base import DeployData, DriftSchedule, OfflineData
from harness.validation.errors import ConfigError

TABLES = ("estimates", "alarms", "novelty", "risk_coverage")


def check_monitor(cfg: DictConfig, n_deploy: int | None = None) -> None:
    """Raise ConfigError naming the ``monitor.*`` key, its value and what is allowed."""
    monitor = cfg.monitor
    n_deploy = cfg.stream.n_deploy if n_deploy is None else n_deploy  # a table's length is its file's
    present = list(cfg.strategy)
    for name in monitor.strategies or []:
        if name not in present:
            raise ConfigError(f"monitor.strategies has {name!r}, which is not a strategy of this run: {present}")
    choices = (
        ("detectors", monitor.detectors, DETECTORS),
        ("estimators", monitor.estimators, ESTIMATORS),
        ("scores", monitor.scores, SCORES),
    )
    for key, chosen, allowed in choices:
        unknown = [name for name in chosen if name not in allowed]
        if unknown:
            raise ConfigError(f"monitor.{key}={list(chosen)}: {unknown[0]!r} is not one of {list(allowed)}")
    window = monitor.window if monitor.window is not None else cfg.metrics.window
    checks = [
        ("monitor.alpha", monitor.alpha, 0.0 < monitor.alpha < 1.0, "in (0, 1)"),
        ("monitor.window", window, 2 <= window <= n_deploy, f"in [2, stream.n_deploy={n_deploy}]"),
        ("monitor.n_permutations", monitor.n_permutations, monitor.n_permutations >= 1, ">= 1"),
        ("monitor.mmd_reference", monitor.mmd_reference, monitor.mmd_reference >= 2, ">= 2"),
        ("monitor.coverages", list(monitor.coverages), all(0.0 < c <= 1.0 for c in monitor.coverages),
         "values in (0, 1]"),
    ]
    for key, value, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"{key}={value} is invalid: must be {allowed}")


def monitored(cfg: DictConfig, fingerprints: dict[str, str], frozen_sha256: str) -> list[str]:
    """The strategies to monitor: ``monitor.strategies``, or (``null``) every strategy that serves
    the frozen pre-deployment network itself (its weight fingerprint is the frozen model's); none
    when ``monitor.enabled`` is false. A named strategy must serve it too."""
    if not cfg.monitor.enabled:
        return []
    serving = [name for name, sha in fingerprints.items() if sha == frozen_sha256]
    if cfg.monitor.strategies is None:
        return serving
    for name in cfg.monitor.strategies:
        if name not in serving:
            raise ConfigError(
                f"monitor.strategies has {name!r}, which does not serve the frozen network; those that do: {serving}"
            )
    return list(cfg.monitor.strategies)


def monitor_run(
    cfg: DictConfig,
    names: list[str],
    module: Calibrated,
    offline: OfflineData,
    deploy: DeployData,
    schedule: DriftSchedule,
    *,
    n_classes: int,
    tokens: bool = False,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """The monitoring tables (name -> frame, see :data:`TABLES`) and the ``result.json`` entry
    (strategy -> detectors, estimators, validation accuracy, what the input detectors read) of the
    frozen ``module``, once per strategy in ``names`` that serves it (empty tables when ``names`` is
    empty). ``tokens``: the stream's rows are token ids, which the input detectors read as bags of words."""
    monitor = cfg.monitor
    window = monitor.window if monitor.window is not None else cfg.metrics.window
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    summary = {}
    reference = Reference.build(module, offline, n_classes, tokens=tokens) if names else None
    for name in names:
        watched = watch(
            module, reference, deploy.X, window=window, alpha=monitor.alpha, seed=cfg.seed,
            detectors=monitor.detectors, estimators=monitor.estimators, scores=monitor.scores,
            n_permutations=monitor.n_permutations, mmd_reference=monitor.mmd_reference,
        )
        scored = score(name, watched, deploy, schedule, tau=cfg.metrics.confidence_threshold,
                       coverages=monitor.coverages, max_delay=cfg.metrics.max_detection_delay)
        for table in TABLES:
            frames[table].append(getattr(scored, table))
        summary[name] = {**scored.summary, "validation_accuracy": reference.accuracy,
                         "input_detectors_read": reference.describe_inputs()}
    return {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items() if parts}, summary
