"""From replay records to the tables of the results contract (pure: no model is run here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.pipeline.replay import Record
from harness.results.store import atomic_write
from harness.scores import metrics, tally
from harness.scores.detection import detection_scores, schedule_drifts
from harness.streams.base import PHASES, DeployData, DriftSchedule


def predictions_table(data: DeployData, records: dict[str, Record], rows: slice = slice(None)) -> pd.DataFrame:
    """One row per (strategy, deployment sample), of the samples ``rows`` (all by default)."""
    frames = []
    for name, record in records.items():
        proba = record.proba[rows]
        y_pred, confidence = metrics.predict(proba)
        frame = pd.DataFrame(
            {
                "strategy": name,
                "t": data.t[rows],
                "y_true": data.y[rows],
                "y_pred": y_pred,
                "confidence": confidence,
                **{f"p_{k}": proba[:, k] for k in range(proba.shape[1])},
                "phase": data.phase[rows],
                "novel": data.novel[rows],
                "label_used": record.label_used[rows],
                "latency_us": record.latency_us[rows],
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_predictions(path: Path, data: DeployData, records: dict[str, Record], *, chunk: int) -> Path:
    """Write :func:`predictions_table` to the parquet file ``path`` one row group of at most ``chunk``
    samples of one strategy at a time, so that the whole table (a dozen columns per sample and
    strategy) is never held in memory; the rows, their order and their values are those of
    :func:`predictions_table`, whatever ``chunk``."""
    def write(tmp: Path) -> None:
        writer = None
        try:
            for name, record in records.items():
                for start in range(0, len(data), chunk):
                    part = predictions_table(data, {name: record}, slice(start, start + chunk))
                    table = pa.Table.from_pandas(part, preserve_index=False,
                                                 schema=None if writer is None else writer.schema)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    return atomic_write(path, write)


def groups(data: DeployData) -> list[str]:
    """The groups the summary scores: each phase with samples, ``all``, and ``novel`` when the
    stream has a novel sample."""
    present = [p for p in PHASES if any((data.phase[a:b] == p).any() for a, b in tally.blocks(len(data)))]
    return [*present, "all", *(["novel"] if data.novel.any() else [])]


def group_sums(data: DeployData, record: Record, names: list[str], *, tau: float) -> dict[str, tally.Sums]:
    """Per group in ``names`` (phases, ``all``, ``novel``): the sums of ``record``'s scores, added
    one block of samples at a time."""
    sums = {name: tally.Sums() for name in names}
    for start, end in tally.blocks(len(data)):
        y, proba, phase = data.y[start:end], np.asarray(record.proba[start:end], dtype=float), data.phase[start:end]
        for name in names:
            mask = (slice(None) if name == "all" else data.novel[start:end] if name == "novel" else phase == name)
            if name == "all" or mask.any():
                sums[name].add(y[mask], proba[mask], tau=tau)
    return sums


def summary_table(data: DeployData, records: dict[str, Record], *, tau: float) -> pd.DataFrame:
    """One row per (strategy, phase), phase in pre/drift/post/all, plus ``novel`` (the samples of a
    sub-population never seen offline) when the stream has any; a phase without samples (the drift
    phase of a sudden drift) has no row rather than a row of NaN. Scored a block of samples at a
    time (harness/scores/tally.py), so no strategy's probabilities are copied whole."""
    names, rows = groups(data), []
    for name, record in records.items():
        for phase, sums in group_sums(data, record, names, tau=tau).items():
            rows.append({"strategy": name, "phase": phase, **sums.scores()})
    return with_regret(pd.DataFrame(rows), "phase")


REGRET_REFERENCE = "oracle_switch"


def with_regret(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """``table`` with ``regret`` = the ``oracle_switch`` strategy's accuracy minus the row's, matched
    on ``key`` (phase or window): how far each strategy is below what a perfect, instant drift
    detector with free retraining reaches. NaN in every row when the run has no ``oracle_switch``
    (the column is always there, so tables of runs with and without it stack).

    >>> t = pd.DataFrame({"strategy": ["a", "oracle_switch"] * 2, "phase": ["pre", "pre", "post", "post"],
    ...                   "accuracy": [0.75, 0.75, 0.5, 0.75]})
    >>> with_regret(t, "phase")["regret"].tolist()
    [0.0, 0.0, 0.25, 0.0]
    """
    reference = table.loc[table["strategy"] == REGRET_REFERENCE].set_index(key)["accuracy"]
    return table.assign(regret=table[key].map(reference) - table["accuracy"])


def windows_table(data: DeployData, records: dict[str, Record], *, tau: float, window: int) -> pd.DataFrame:
    """One row per (strategy, tumbling window of ``window`` samples); the last may be shorter. Read
    a block of whole windows at a time (harness/scores/tally.py)."""
    rows = []
    for name, record in records.items():
        memory_t = np.asarray(record.memory_t)
        for first, last in tally.blocks(len(data), window):
            y_block, proba_block = data.y[first:last], np.asarray(record.proba[first:last], dtype=float)
            for start in range(first, last, window):
                end = min(start + window, last)
                y, proba = y_block[start - first : end - first], proba_block[start - first : end - first]
                measured = np.flatnonzero(memory_t <= end)
                rows.append(
                    {
                        "strategy": name,
                        "window": start // window,
                        "t_end": end,
                        "accuracy": metrics.accuracy_score(y, proba),
                        "ece": metrics.ece_error(y, proba),
                        "confident_error_rate": metrics.confident_error_rate(y, proba, tau=tau),
                        "mean_confidence": metrics.mean_confidence(y, proba),
                        "model_bytes": record.memory_bytes[measured[-1]] if measured.size else np.nan,
                    }
                )
    return with_regret(pd.DataFrame(rows), "window")


def costs_table(records: dict[str, Record]) -> pd.DataFrame:
    """One row per strategy: time, per-request latency percentiles (and the serving mode that
    produced them, and how many requests they are of), memory and updates."""
    rows = []
    for name, record in records.items():
        latency_us = np.asarray(record.latency_us[:])
        n = len(latency_us)
        latency_us = latency_us[~np.isnan(latency_us)]  # the measured requests (see replay.latency_requests)
        total = record.predict_s + record.learn_s
        p50, p99, p999 = np.percentile(latency_us, [50, 99, 99.9])
        rows.append(
            {
                "strategy": name,
                "predict_s": record.predict_s,
                "learn_s": record.learn_s,
                "samples_per_s": n / total if total > 0 else np.nan,
                "latency_mode": record.latency_mode,
                "serve_batch": record.serve_batch,
                "latency_requests": record.latency_requests,
                "latency_p50_us": float(p50),
                "latency_p99_us": float(p99),
                "latency_p999_us": float(p999),
                "latency_jitter": float(p99 / p50) if p50 > 0 else np.nan,
                "latency_max_us": float(np.max(latency_us)),  # a retraining stalls one request
                "model_bytes": record.memory_bytes[-1],
                "peak_model_bytes": max(record.memory_bytes),
                "peak_rss_bytes": record.peak_rss_bytes,
                "peak_rss_scope": record.peak_rss_scope,
                "n_updates": record.n_updates,
                "n_retrains": record.n_retrains,
            }
        )
    return pd.DataFrame(rows)


def detections_table(records: dict[str, Record]) -> pd.DataFrame:
    """One row per detection of every strategy that has a detector: ``strategy``, ``t``."""
    rows = [
        {"strategy": name, "t": int(t)}
        for name, record in records.items()
        if record.detections is not None
        for t in record.detections
    ]
    return pd.DataFrame(rows, columns=["strategy", "t"])


def detection_summary(
    records: dict[str, Record], schedule: DriftSchedule, n_deploy: int, *, max_delay: int
) -> dict[str, dict]:
    """Per strategy with a detector: its detections scored against ``schedule`` (see harness.scores.detection)."""
    drifts = schedule_drifts(schedule, n_deploy)
    return {
        name: detection_scores(record.detections, drifts, max_delay=max_delay)
        for name, record in records.items()
        if record.detections is not None
    }


def headline(
    data: DeployData,
    records: dict[str, Record],
    schedule: DriftSchedule,
    *,
    tau: float,
    window: int,
    tolerance: float,
) -> dict[str, dict]:
    """Per strategy: drift-induced error, recovery and the numbers a reader looks at first."""
    out = {}
    for name, record in records.items():
        sums = group_sums(data, record, ["pre", "post"], tau=tau)
        pre, post = sums["pre"].scores(), sums["post"].scores()
        error_pre, error_post = (s.wrong / s.n if s.n else np.nan for s in (sums["pre"], sums["post"]))
        errors = np.empty(len(data), np.int8)  # 1: wrong; int8, not an (n, K) or float64 copy
        for start, end in tally.blocks(len(data)):
            errors[start:end] = metrics.predict(record.proba[start:end])[0] != data.y[start:end]
        recovery = (
            metrics.recovery_samples(
                errors, start=schedule.onset + schedule.width, baseline=error_pre, window=window,
                tolerance=tolerance,
            )
            if pre["n"]
            else np.nan
        )
        out[name] = {
            "accuracy_pre": 1 - error_pre,
            "accuracy_post": 1 - error_post,
            "drift_induced_error": error_post - error_pre,
            "recovery_samples": recovery,
            "confident_error_rate_post": post["confident_error_rate"],
            "ece_post": post["ece"],
        }
    return {name: {k: float(v) for k, v in values.items()} for name, values in out.items()}


def whole_stream_headline(data: DeployData, records: dict[str, Record], *, tau: float) -> dict[str, dict]:
    """Per strategy, what is defined when the drift is unknown (real data without declared change
    points): whole-stream accuracy, confident-error rate and ECE; no pre/post split, no drift-induced
    error, no recovery, rather than NaN that would read like results."""
    out = {}
    for name, record in records.items():
        whole = group_sums(data, record, ["all"], tau=tau)["all"].scores()
        out[name] = {key: whole[metric] for key, metric in
                     (("accuracy_all", "accuracy"), ("confident_error_rate_all", "confident_error_rate"),
                      ("ece_all", "ece"))}
    return {name: {k: float(v) for k, v in values.items()} for name, values in out.items()}
