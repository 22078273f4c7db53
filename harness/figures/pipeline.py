"""Figures of the pipeline study (``experiment=pipeline``): what each fault of the data pipeline does
to each strategy, and how soon each monitor of the frozen model sees it.

Read only from results: the report's ``runs`` table (``summary.csv`` of every run with its config
columns, ``drift.fault`` among them) and, for the detection delays, the ``result.json`` of each run it
lists (``monitoring.<strategy>.detectors``). Strategy colours and line styles are the fixed ones of
:mod:`harness.figures.palette`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from harness.figures import palette
from harness.figures.shared import CI
from harness.results.store import read_result

FAULT, SEVERITY = "drift.fault", "drift.severity"
METRICS = {"accuracy": "accuracy after the fault", "confident_error_rate": "confident-error rate after the fault"}


def faults(runs: pd.DataFrame) -> list[str]:
    """The faults of the runs in alphabetical order (a figure reads the results only)."""
    return sorted(runs[FAULT].astype(str).unique().tolist())


def plot_fault_metric(runs: pd.DataFrame, *, metric: str = "accuracy", ax: plt.Axes | None = None) -> plt.Axes:
    """``metric`` after the fault (phase ``post``) against severity, one line per strategy: the mean
    over seeds with its 95% t-interval."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == "post"]
    names = palette.order(rows["strategy"])
    sns.lineplot(data=rows, x=SEVERITY, y=metric, hue="strategy", hue_order=names,
                 palette={n: palette.color(n) for n in names}, style="strategy", style_order=names,
                 dashes={n: palette.dashes(n) for n in names}, markers={n: palette.marker(n) for n in names},
                 errorbar=CI, legend=False, ax=ax)
    ax.set_xlabel("fault severity")
    ax.set_ylabel(METRICS.get(metric, metric))
    return ax


def detection_delays(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run and label-free detector of the frozen model: ``fault``, ``severity``, ``seed``,
    ``detector``, ``mean_detection_delay`` (NaN: missed) and ``false_alarms``, read from each run's
    ``result.json``."""
    rows = []
    for run, first in runs.groupby("run", sort=True).first().iterrows():
        result = read_result(Path(run)) or {}
        for strategy, entry in (result.get("monitoring") or {}).items():
            for detector, scores in entry["detectors"].items():
                rows.append({"fault": str(first[FAULT]), "severity": first[SEVERITY], "seed": first["seed"],
                             "strategy": strategy, "detector": detector,
                             "mean_detection_delay": scores.get("mean_detection_delay"),
                             "false_alarms": scores.get("false_alarms")})
    frame = pd.DataFrame(rows, columns=["fault", "severity", "seed", "strategy", "detector", "mean_detection_delay",
                                        "false_alarms"])
    return frame.astype({"mean_detection_delay": float})


def plot_detection_delays(delays: pd.DataFrame, *, order: list[str], ax: plt.Axes | None = None) -> plt.Axes:
    """Mean detection delay (samples after the onset) per fault and detector; a detector that missed
    the fault in a run has no delay there (a missing bar: missed in every run)."""
    ax = ax or plt.gca()
    detectors = list(dict.fromkeys(delays.detector))
    sns.barplot(data=delays, x="fault", y="mean_detection_delay", hue="detector", order=order, hue_order=detectors,
                palette=dict(zip(detectors, sns.color_palette("colorblind", len(detectors)))), errorbar=None, ax=ax)
    ax.set_xlabel("fault")
    ax.set_ylabel("detection delay (samples after onset)")
    return ax


def pipeline_faults_figure(runs: pd.DataFrame, handles: list) -> plt.Figure:
    """One column per fault: accuracy (top) and confident-error rate (bottom) after the fault against
    severity, one line per strategy."""
    names = faults(runs)
    fig, axes = plt.subplots(2, len(names), figsize=(3.4 * len(names), 6.2), sharey="row", squeeze=False,
                             layout="constrained")
    for column, fault in enumerate(names):
        rows = runs[runs[FAULT].astype(str) == fault]
        for row, metric in enumerate(METRICS):
            plot_fault_metric(rows, metric=metric, ax=axes[row, column])
        axes[0, column].set_title(fault)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False)
    return fig


def pipeline_detection_figure(runs: pd.DataFrame) -> plt.Figure:
    """Detection delay of each label-free detector of the frozen model per fault, at the largest
    severity of the study."""
    delays = detection_delays(runs)
    top = delays.severity.max() if not delays.empty else float("nan")
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(faults(runs))), 4.0), layout="constrained")
    plot_detection_delays(delays[delays.severity == top], order=faults(runs), ax=ax)
    ax.set_title(f"frozen model's monitors, severity {top:g}")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="detector")
    return fig
