"""One experiment's work: optimise and freeze offline, replay the drifting stream, measure, write, draw.

:func:`run` is what ``python -m harness.run`` runs for each job (``harness/run.py`` is the Hydra entry,
which imports this module only once a job runs: it imports torch, River and pandas); tests call it
directly with a composed config and an output directory.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import harness
from harness.monitor import monitor_run, monitored
from harness.offline.cache import pretrain
from harness.offline.calibrate import at_bound
from harness.offline.models import preprocessing_record, standardizes
from harness.offline.text_model import text_kind
from harness.pipeline.replay import label_mask, replay
from harness.pipeline.summary import (
    costs_table,
    detection_summary,
    detections_table,
    headline,
    summary_table,
    whole_stream_headline,
    windows_table,
    write_predictions,
)
from harness.pipeline.sweep import task_overrides
from harness.pipeline.threads import thread_pools
from harness.results.records import seal
from harness.results.store import (
    RESULT,
    RunResult,
    config_fingerprint,
    plain,
    user_code,
    write_json,
    write_table,
    written_files,
)
from harness.streams.base import KnownDrift
from harness.streams.view import write_stream_view
from harness.validation.preflight import preflight

log = logging.getLogger("harness")


class StrategiesFailed(RuntimeError):
    """Every strategy of the run failed (served something that is not probabilities, or its code
    raised): nothing to report."""


def seed_everything(seed: int, threads: int) -> None:
    """Seed numpy's and torch's global RNGs and cap torch's and BLAS's threads: every run sets the
    process state it relies on, so nothing leaks between jobs that share a worker process."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    thread_pools().limit(limits=threads)  # numpy's BLAS: small products run faster on one thread


def versions() -> dict:
    import river

    return {
        "harness": harness.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "river": river.__version__,
        "pandas": pd.__version__,
    }


def run(cfg: DictConfig, output_dir: Path) -> RunResult:
    """Run one experiment into ``output_dir``; ``result.json`` is written last."""
    started = time.perf_counter()
    started_ns = time.time_ns()
    output_dir = Path(output_dir)
    stream, strategies = preflight(cfg)
    seed_everything(cfg.seed, cfg.threads)
    output_dir.mkdir(parents=True, exist_ok=True)

    offline = stream.offline()
    if cfg.model.kind == "pretrained":
        log.info("pre-deployment: your model, calibrated on %d validation samples", len(offline.y_val))
    else:
        log.info("pre-deployment optimisation: %d trials on %d train / %d validation samples",
                 cfg.offline.n_trials, len(offline.y_train), len(offline.y_val))  # fmt: skip
    pretrained, cache_state = pretrain(offline, n_classes=stream.n_classes, settings=offline_settings(cfg),
                                       cache_dir=Path(cfg.offline.cache_dir) if cfg.offline.cache else None,
                                       export_to=output_dir / "frozen_model.pt2")
    seed_everything(cfg.seed, cfg.threads)  # the same RNG state after a cache hit as after training
    write_table(output_dir / "offline_search.csv", pd.DataFrame(pretrained.search))
    log.info("frozen (%s): %s, temperature %.3f", cache_state, pretrained.params, pretrained.temperature)

    bounded = with_known_drift(offline, stream, strategies)
    for strategy in strategies.values():
        strategy.fit_offline(bounded if getattr(strategy, "needs_known_drift", False) else offline, pretrained)
    static_before = {name: sha for name, s in strategies.items() if (sha := s.fingerprint()) is not None}
    deploy = stream.deploy()
    spill = tempfile.TemporaryDirectory(prefix=".replay-", dir=output_dir) if len(deploy) > cfg.replay.chunk else None
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
        spill_dir=None if spill is None else spill.name,  # a stream longer than a chunk: outputs on disk
        chunk=cfg.replay.chunk,
        latency_requests=cfg.replay.latency_requests,
        seed=cfg.seed,
        failures=failures,
    )
    for message in failures.values():
        log.error("%s", message)
    if not records:
        raise StrategiesFailed("every strategy failed: " + "; ".join(failures.values()))
    sha_before, sha_after = pretrained.weight_hashes()
    watched = [name for name in monitored(cfg, static_before, pretrained.sha256) if name not in failures]
    monitor_tables, monitoring = monitor_run(
        cfg, watched, pretrained.module, offline, deploy, stream.schedule,
        n_classes=stream.n_classes, tokens=stream.inputs == "tokens",
    )
    for table_name, table in monitor_tables.items():
        write_table(output_dir / f"{table_name}.csv", table)
    static_weights = {}
    for name, before in static_before.items():
        after = strategies[name].fingerprint()
        static_weights[name] = {"sha256_before": before, "sha256_after": after, "unchanged": before == after}

    tau = cfg.metrics.confidence_threshold
    summary = summary_table(deploy, records, tau=tau)
    costs = costs_table(records)
    write_json(output_dir / "stream.json", stream.describe())
    write_predictions(output_dir / "predictions.parquet", deploy, records, chunk=cfg.replay.chunk)
    windows = windows_table(deploy, records, tau=tau, window=cfg.metrics.window)
    write_table(output_dir / "summary.csv", summary)
    write_table(output_dir / "windows.csv", windows)
    write_table(output_dir / "costs.csv", costs)
    if any(record.detections is not None for record in records.values()):
        write_table(output_dir / "detections.csv", detections_table(records))
    if cfg.save_stream:
        write_stream(output_dir, offline, deploy, getattr(stream, "words", None))
    oov = stream.oov_share(deploy.X) if callable(getattr(stream, "oov_share", None)) else None
    write_stream_view(
        output_dir, offline, deploy, onset=stream.schedule.onset, n_classes=stream.n_classes, window=cfg.metrics.window,
        oov=oov, tokens=stream.inputs == "tokens",
    )
    if draws_figures(cfg):
        from harness.figures.plots import plot_run, plot_stream  # matplotlib only for a run that draws

        plot_run(output_dir)
        plot_stream(output_dir)

    if stream.schedule.known:
        per_strategy = headline(
            deploy,
            records,
            stream.schedule,
            tau=tau,
            window=cfg.metrics.window,
            tolerance=cfg.metrics.recovery_tolerance,
        )
    else:
        per_strategy = whole_stream_headline(deploy, records, tau=tau)
    for row in costs.itertuples():
        per_strategy[row.strategy]["samples_per_s"] = row.samples_per_s
    if spill is not None:
        spill.cleanup()
    config_record = OmegaConf.to_container(cfg, resolve=True)
    result = {
        "status": "ok",
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": time.perf_counter() - started,
        "seed": cfg.seed,
        "overrides": task_overrides(),
        "strategies": per_strategy,
        "failed_strategies": failures,
        "detections": detection_summary(records, stream.schedule, len(deploy),
                                        max_delay=cfg.metrics.max_detection_delay),  # fmt: skip
        "static_weights": static_weights,
        "offline_cache": cache_state,
        "monitoring": monitoring,
        "frozen_model": {
            "sha256_before": sha_before,
            "sha256_after": sha_after,
            "unchanged": sha_before == sha_after,
            "temperature": pretrained.temperature,
            "temperature_at_bound": at_bound(pretrained.temperature) is not None,
            "params": pretrained.params,
            "preprocessing": preprocessing_record(pretrained.module),
            **user_model_record(pretrained),
        },
        "schedule": stream.schedule.as_dict(),
        "drift": drift_record(stream),
        "versions": versions(),
        "config": config_record,
        "config_sha256": config_fingerprint(config_record),
        "user_code": user_code(config_record),
        "files": written_files(output_dir, started_ns),
    }
    result = seal(plain(result))  # record_sha256: an edit of any number in it makes the record corrupt
    write_json(output_dir / RESULT, result)
    return RunResult(output_dir, summary=summary, windows=windows, costs=costs, result=result)


def drift_record(stream) -> dict:
    """What ``result.json`` can say about the drift: known exactly (generated), declared by the user
    (change points of real data) or unknown (real data without them: whole-stream and windowed
    metrics only, no phases, no drift-induced error, detections counted but not scored)."""
    schedule = stream.schedule
    if schedule.kind != "natural":
        return {"known": True, "source": "generated by the stream"}
    ignored = "drift.* is not applied to recorded data (stream.json: drift_config)"
    if schedule.known:
        return {"known": True, "source": "declared by stream.change_points", "change_points": schedule.change_points(),
                "drift_config": ignored}
    return {"known": False, "source": "natural drift of real data, not declared (stream.change_points=null)",
            "reported": "whole-stream (phase all) and windowed metrics; no pre/post phases, drift-induced error "
            "or recovery; detections counted, not scored", "drift_config": ignored}


def with_known_drift(offline, stream, strategies: dict):
    """``offline`` with ``known_drift`` (the stream's post-drift concept and onset) when a bound
    asks for it; only the strategies that declare ``needs_known_drift`` are handed this copy."""
    if not any(getattr(s, "needs_known_drift", False) for s in strategies.values()):
        return offline
    return dataclasses.replace(offline, known_drift=KnownDrift(stream.post_drift(), stream.schedule.onset))


def user_model_record(pretrained) -> dict:
    """For ``model=pretrained``: where the model came from and what the hashes cover."""
    user = pretrained.user
    if user is None:
        return {}
    return {"source": user.source, "file": str(user.file), "file_sha256": user.file_sha256,
            "hashed": "the model's own state dict (temperature apart)", "served_sha256": pretrained.sha256}


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


def draws_figures(cfg: DictConfig) -> bool:
    """``figures``, or by default: a single run draws its figures, a sweep job leaves them to the
    sweep's report."""
    if cfg.figures is not None:
        return cfg.figures
    return not (HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN)


def write_stream(output_dir: Path, offline, deploy, words=None) -> None:
    """The exact data of the run, so that anyone can replay it through another tool; a token stream
    (``words``: rows of token ids -> their text, as ``stream=prompts`` gives) adds a ``text`` column."""
    def frame(X, **columns):
        text = {} if words is None else {"text": words(X)}
        return pd.DataFrame({**{f"x_{i}": X[:, i] for i in range(X.shape[1])}, **text, **columns})

    n_train = len(offline.y_train)
    offline_frame = frame(
        np.vstack([offline.X_train, offline.X_val]),
        y=np.concatenate([offline.y_train, offline.y_val]),
        t=np.arange(n_train + len(offline.y_val)),
        split=["train"] * n_train + ["val"] * len(offline.y_val),
    )
    deploy_frame = frame(deploy.X, y=deploy.y, t=deploy.t, phase=deploy.phase, novel=deploy.novel,
                         drift_progress=deploy.drift_progress)  # fmt: skip
    write_table(output_dir / "stream_offline.parquet", offline_frame)
    write_table(output_dir / "stream_deploy.parquet", deploy_frame)


HEADLINE = {"accuracy_pre": "acc pre", "accuracy_post": "acc post", "drift_induced_error": "drift-induced err",
            "confident_error_rate_post": "conf. err post", "accuracy_all": "acc all",
            "confident_error_rate_all": "conf. err all", "samples_per_s": "samples/s"}


def format_headline(result: dict) -> str:
    """The short per-strategy table printed at the end of a run (whole-stream columns when the drift
    is unknown)."""
    rows = [
        {"strategy": name, **{label: values[key] for key, label in HEADLINE.items() if key in values}}
        for name, values in result["strategies"].items()
    ]
    return pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}")
