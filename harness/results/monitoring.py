"""Gather the monitoring tables of every finished run below some directories, and draw the
monitoring figures of a study: ``python -m harness.results.monitoring DIR [DIR ...] [--out OUT]``.

Reads only what runs wrote (the four monitoring tables, ``result.json``, ``predictions.parquet``
for the labels each strategy used); writes ``monitoring_*.parquet`` and ``figures/monitoring_*.png``.
A study preset can ask for it at the end of its sweep with :class:`MonitoringCallback`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from harness.monitor.pipeline import TABLES
from harness.results.report import config_columns, find_run_dirs
from harness.results.store import read_result, write_table

COLUMNS = {"drift.kind": "kind", "drift.severity": "severity", "seed": "seed"}


def _detector_rows(result: dict) -> list[dict]:
    """Label-free detectors of each monitored strategy, and every label-based (River) detector."""
    rows = []
    for strategy, entry in result.get("monitoring", {}).items():
        for detector, scores in entry["detectors"].items():
            rows.append({"strategy": strategy, "detector": detector, "reads_labels": False, **scores})
    for strategy, scores in result.get("detections", {}).items():
        rows.append({"strategy": strategy, "detector": f"{strategy} (River, errors)", "reads_labels": True, **scores})
    return rows


def collect_monitoring(roots: list[Path]) -> dict[str, pd.DataFrame]:
    """One frame per monitoring table over all finished runs, plus ``detectors`` (one row per run and
    detector) and ``labels`` (one row per run and strategy: labels used, post-drift accuracy), each
    with the run's ``kind``, ``severity``, ``seed`` and ``run``."""
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in (*TABLES, "detectors", "labels")}
    for run_dir in find_run_dirs(roots):
        result = read_result(run_dir)
        if result is None or result.get("status") != "ok" or not result.get("monitoring"):
            continue
        config = config_columns(result)  # the config the run recorded in its result.json
        columns = {"run": str(run_dir), **{short: config[key] for key, short in COLUMNS.items()},
                   "onset": result["schedule"]["onset"]}
        for name in TABLES:
            if (run_dir / f"{name}.csv").is_file():
                frames[name].append(pd.read_csv(run_dir / f"{name}.csv").assign(**columns))
        frames["detectors"].append(pd.DataFrame(_detector_rows(result)).assign(**columns))
        used = pd.read_parquet(run_dir / "predictions.parquet", columns=["strategy", "label_used"])
        labels = used.groupby("strategy", sort=False).label_used.sum().rename("labels_used").reset_index()
        for key in ("accuracy_post", "accuracy_pre"):  # absent when the drift is unknown (real data)
            labels[key] = labels.strategy.map(lambda s, key=key: result["strategies"][s].get(key, float("nan")))
        frames["labels"].append(labels.assign(**columns))
    return {name: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame() for name, parts in frames.items()}


def write_monitoring(roots: list[Path], out: Path, *, figures: bool = True) -> list[Path]:
    """The gathered tables (``monitoring_<name>.parquet``) and, if asked, the figures, into ``out``."""
    tables = collect_monitoring(roots)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_table(out / f"monitoring_{name}.parquet", frame) for name, frame in tables.items()]
    if figures and not tables["estimates"].empty:
        from harness.figures.monitoring import draw_monitoring  # matplotlib only when figures are asked for

        written += draw_monitoring(tables, out / "figures")
    return written


class MonitoringCallback(Callback):
    """At the end of a multirun, gather and draw the monitoring tables of the sweep directory."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        written = write_monitoring([sweep_dir], sweep_dir)
        print(f"monitoring: {len(written)} files -> {sweep_dir}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="run or sweep directories")
    parser.add_argument("--out", type=Path, help="where to write (default: the first DIR)")
    args = parser.parse_args(argv)
    missing = [str(d) for d in args.dirs if not d.is_dir()]
    if missing:
        parser.error(f"not a directory: {', '.join(missing)}")
    written = write_monitoring(args.dirs, args.out or args.dirs[0])
    print(f"monitoring: {len(written)} files -> {args.out or args.dirs[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
