"""One experiment, stage by stage: optimise and freeze offline, fit the strategies, replay the
drifting stream, monitor, write the tables and figures, write ``result.json`` last.

:func:`run` is what ``python -m harness.run`` (harness/run.py) and ``harness.run_experiment``
(harness/pipeline/api.py) run for one job; tests call it with a composed config and a directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from harness.monitor.pipeline import monitor_run, monitored
from harness.offline.cache import pretrain
from harness.offline.models import standardizes
from harness.offline.text_model import text_kind
from harness.pipeline.record import drift_record, finished_record, frozen_model_record
from harness.pipeline.replay import label_mask, replay
from harness.pipeline.summary import detection_summary, headline, whole_stream_headline
from harness.pipeline.tables import write_tables
from harness.pipeline.threads import thread_pools
from harness.results.store import RESULT, RunResult, write_json, write_table
from harness.strategies.base import tags
from harness.streams.base import KnownDrift
from harness.streams.stream import stream_tags
from harness.validation.preflight import preflight

log = logging.getLogger("harness")


class StrategiesFailed(RuntimeError):
    """Every strategy of the run failed (served something that is not probabilities, or its code
    raised): nothing to report."""


def run(cfg: DictConfig, output_dir: Path) -> RunResult:
    """Run one experiment into ``output_dir``; ``result.json`` is written last."""
    started = time.perf_counter(), time.time_ns()
    output_dir = Path(output_dir)
    stream, strategies = preflight(cfg)
    seed_everything(cfg.seed, cfg.threads)
    output_dir.mkdir(parents=True, exist_ok=True)
    offline = stream.offline()
    pretrained, cache_state = freeze(cfg, stream, offline, output_dir)
    static_before = fit_strategies(offline, stream, strategies, pretrained)
    deploy = stream.deploy()
    with spill_directory(len(deploy), cfg.replay.chunk, output_dir) as spill_dir:
        records, failures = replay_all(cfg, stream, deploy, strategies, spill_dir)
        hashes = pretrained.weight_hashes()
        watched = [name for name in monitored(cfg, static_before, pretrained.sha256) if name not in failures]
        monitoring = monitor(cfg, output_dir, watched, pretrained, offline, deploy, stream)
        static_weights = static_weight_record(static_before, strategies)
        tables = write_tables(cfg, output_dir, stream, offline, deploy, records, strategies)
        if draws_figures(cfg):
            from harness.figures.per_run import plot_run  # matplotlib only for a run that draws
            from harness.figures.stream_view import plot_stream

            plot_run(output_dir)
            plot_stream(output_dir)
        per_strategy = strategy_headlines(cfg, stream, deploy, records, tables["costs"])
    measured = {
        "strategies": per_strategy,
        "failed_strategies": failures,
        "detections": detection_summary(records, stream.schedule, len(deploy),
                                        max_delay=cfg.metrics.max_detection_delay),
        "static_weights": static_weights,
        "offline_cache": cache_state,
        "monitoring": monitoring,
        "frozen_model": frozen_model_record(pretrained, hashes),
        "schedule": stream.schedule.as_dict(),
        "drift": drift_record(stream),
    }
    result = finished_record(cfg, output_dir, started, measured)
    write_json(output_dir / RESULT, result)
    return RunResult(output_dir, summary=tables["summary"], windows=tables["windows"], costs=tables["costs"],
                     result=result)


def seed_everything(seed: int, threads: int) -> None:
    """Seed numpy's and torch's global RNGs and cap torch's and BLAS's threads: every run sets the
    process state it relies on, so nothing leaks between jobs that share a worker process."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    thread_pools().limit(limits=threads)  # numpy's BLAS: small products run faster on one thread


def offline_settings(cfg: DictConfig) -> dict:
    """What, besides the offline data, decides the pre-deployment outcome (and so its cache key); for
    ``model=pretrained`` the ``model`` node too (such a model is not cached)."""
    standardize = standardizes(cfg.model.kind, cfg.model.standardize)
    if cfg.model.kind == "pretrained":
        return {"model_kind": "pretrained", "model": OmegaConf.to_container(cfg.model), "standardize": standardize,
                "calibrate": cfg.offline.calibrate, "seed": cfg.seed, "threads": cfg.threads}
    kind = text_kind(cfg.model.vocab, cfg.model.buckets) if cfg.model.kind == "text" else cfg.model.kind
    return {"model_kind": kind, "depth": cfg.model.depth, "space": OmegaConf.to_container(cfg.offline.search),
            "n_trials": cfg.offline.n_trials, "sampler": cfg.offline.sampler, "pruner": cfg.offline.pruner,
            "max_epochs": cfg.offline.max_epochs, "patience": cfg.offline.patience,
            "calibrate": cfg.offline.calibrate, "standardize": standardize, "seed": cfg.seed, "threads": cfg.threads}


def freeze(cfg: DictConfig, stream, offline, output_dir: Path):
    """Pre-deployment: search, train, calibrate and freeze the model (or calibrate the user's), from
    the offline cache when it holds this outcome; export it and write ``offline_search.csv``.
    Returns the :class:`harness.offline.freeze.Pretrained` model and the cache's state."""
    if cfg.model.kind == "pretrained":
        log.info("pre-deployment: your model, calibrated on %d validation samples", len(offline.y_val))
    else:
        log.info("pre-deployment optimisation: %d trials on %d train / %d validation samples",
                 cfg.offline.n_trials, len(offline.y_train), len(offline.y_val))
    pretrained, cache_state = pretrain(offline, n_classes=stream.n_classes, settings=offline_settings(cfg),
                                       cache_dir=Path(cfg.offline.cache_dir) if cfg.offline.cache else None,
                                       export_to=output_dir / "frozen_model.pt2")
    seed_everything(cfg.seed, cfg.threads)  # the same RNG state after a cache hit as after training
    write_table(output_dir / "offline_search.csv", pd.DataFrame(pretrained.search))
    log.info("frozen (%s): %s, temperature %.3f", cache_state, pretrained.params, pretrained.temperature)
    return pretrained, cache_state


def with_known_drift(offline, stream, strategies: dict):
    """``offline`` with ``known_drift`` (the stream's post-drift concept and onset) when a bound
    asks for it; only the strategies that declare ``needs_known_drift`` are handed this copy."""
    if not any(tags(s).needs_known_drift for s in strategies.values()):
        return offline
    return dataclasses.replace(offline, known_drift=KnownDrift(stream.post_drift(), stream.schedule.onset))


def fit_strategies(offline, stream, strategies: dict, pretrained) -> dict[str, str]:
    """Hand every strategy the offline data and the frozen model; returns the weight fingerprints of
    the strategies that have one (compared after the replay: did a static strategy change?)."""
    bounded = with_known_drift(offline, stream, strategies)
    for strategy in strategies.values():
        strategy.fit_offline(bounded if tags(strategy).needs_known_drift else offline, pretrained)
    return {name: sha for name, s in strategies.items() if (sha := s.fingerprint()) is not None}


def spill_directory(n: int, chunk: int, output_dir: Path):
    """A context holding the directory the replay spills its outputs to when the stream (``n``
    samples) is longer than a ``chunk``, removed on leaving it; ``None`` for a shorter stream."""
    if n <= chunk:
        return contextlib.nullcontext(None)
    return tempfile.TemporaryDirectory(prefix=".replay-", dir=output_dir)


def replay_all(cfg: DictConfig, stream, deploy, strategies: dict, spill_dir: str | None):
    """Replay the deployment stream through every strategy; returns the records of those that did not
    fail and, per failed strategy, why. Raises :class:`StrategiesFailed` when every one failed."""
    failures: dict[str, str] = {}  # strategy -> why it failed; it has no record and no rows in any table
    records = replay(
        deploy,
        strategies,
        n_classes=stream.n_classes,
        label_delay=cfg.replay.label_delay,
        labelled=label_mask(len(deploy), cfg.replay.label_fraction, cfg.seed),
        memory_every=cfg.metrics.window,
        serve_batch=cfg.replay.serve_batch,
        progress=not cfg.quiet,
        spill_dir=spill_dir,  # a stream longer than a chunk: outputs on disk
        chunk=cfg.replay.chunk,
        latency_requests=cfg.replay.latency_requests,
        seed=cfg.seed,
        failures=failures,
    )
    for message in failures.values():
        log.error("%s", message)
    if not records:
        raise StrategiesFailed("every strategy failed: " + "; ".join(failures.values()))
    return records, failures


def monitor(cfg: DictConfig, output_dir: Path, watched: list[str], pretrained, offline, deploy, stream) -> dict:
    """Label-free monitoring of the ``watched`` strategies: writes its tables, returns its summary."""
    tables, monitoring = monitor_run(
        cfg, watched, pretrained.module, offline, deploy, stream.schedule,
        n_classes=stream.n_classes, tokens=stream_tags(stream).inputs == "tokens",
    )
    for table_name, table in tables.items():
        write_table(output_dir / f"{table_name}.csv", table)
    return monitoring


def static_weight_record(static_before: dict[str, str], strategies: dict) -> dict:
    """Per strategy with a weight fingerprint: before and after the replay, and whether it is unchanged."""
    record = {}
    for name, before in static_before.items():
        after = strategies[name].fingerprint()
        record[name] = {"sha256_before": before, "sha256_after": after, "unchanged": before == after}
    return record


def draws_figures(cfg: DictConfig) -> bool:
    """``figures``, or by default: a single run draws its figures, a sweep job leaves them to the
    sweep's report."""
    if cfg.figures is not None:
        return cfg.figures
    return not (HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN)


def strategy_headlines(cfg: DictConfig, stream, deploy, records: dict, costs: pd.DataFrame) -> dict[str, dict]:
    """Per strategy, the headline numbers of ``result.json``: by phase when the drift is known,
    whole-stream otherwise; and its throughput."""
    tau = cfg.metrics.confidence_threshold
    if stream.schedule.known:
        per_strategy = headline(deploy, records, stream.schedule, tau=tau, window=cfg.metrics.window,
                                tolerance=cfg.metrics.recovery_tolerance)
    else:
        per_strategy = whole_stream_headline(deploy, records, tau=tau)
    for row in costs.itertuples():
        per_strategy[row.strategy]["samples_per_s"] = row.samples_per_s
    return per_strategy
