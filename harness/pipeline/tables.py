"""The tables a run writes from its replay records: ``summary.csv``, ``windows.csv``, ``costs.csv``,
``predictions.parquet``, ``detections.csv``, ``stream.json``, the stream view and, on request, the
stream's own data (``save_stream``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from harness.pipeline.summary import costs_table, detections_table, summary_table, windows_table, write_predictions
from harness.results.store import write_json, write_table
from harness.strategies.base import tags
from harness.streams.faults import touched_runs
from harness.streams.stream import stream_tags
from harness.streams.view import write_stream_view


def write_tables(cfg: DictConfig, output_dir: Path, stream, offline, deploy, records: dict,
                 strategies: dict) -> dict[str, pd.DataFrame]:
    """Write every table of the run into ``output_dir``; returns ``summary``, ``windows`` and ``costs``."""
    tau = cfg.metrics.confidence_threshold
    summary = summary_table(deploy, records, tau=tau)
    summary.insert(1, "family", [tags(strategies[name]).family for name in summary["strategy"]])
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
        write_stream(output_dir, offline, deploy, stream.words if stream_tags(stream).token_table else None)
    oov = stream.oov_share(deploy.X) if stream_tags(stream).token_table else None
    write_stream_view(
        output_dir, offline, deploy, onset=stream.schedule.onset, n_classes=stream.n_classes, window=cfg.metrics.window,
        oov=oov, tokens=stream_tags(stream).inputs == "tokens",
    )
    if deploy.faults is not None:  # drift.kind=pipeline: the ground truth of the faults
        write_table(output_dir / "faults.csv", touched_runs(deploy.faults, stream.names))
    return {"summary": summary, "windows": windows, "costs": costs}


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
                         drift_progress=deploy.drift_progress)
    write_table(output_dir / "stream_offline.parquet", offline_frame)
    write_table(output_dir / "stream_deploy.parquet", deploy_frame)
