"""The figures of a study (a sweep's report), drawn from the tables :mod:`harness.results.report`
aggregates over its runs: metrics over time and against severity or label delay, Ovadia-style boxes,
confidence curves, reliability diagrams, the cost trade-off and the critical-difference diagram.
The names of the figures are :data:`harness.results.figure_names.FIGURES`, the one list of them."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from harness import cpu_count  # noqa: E402
from harness.figures import palette, pipeline  # noqa: E402
from harness.figures.shared import (  # noqa: E402
    CI,
    METRIC_NAMES,
    condition_panels,
    covering_ticks,
    drop_legends,
    figure_legend,
    format_bytes,
    hue_keywords,
    legend_handles,
    log_axis,
    n_seeds,
    panel_figure,
    panel_grid,
    plot_over_time,
    save_figure,
    strategy_colors,
)
from harness.results.figure_names import FIGURES  # noqa: E402


def plot_drift_induced_error(runs: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Drift-induced error (post minus pre error) against severity, one line per strategy."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == "all"]
    sns.lineplot(data=rows, x="drift.severity", y="drift_induced_error", **hue_keywords(rows), errorbar=CI,
                 legend=False, ax=ax)
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("drift severity")
    ax.set_ylabel("drift-induced error (post - pre)")
    return ax


def plot_metric_boxes(runs: pd.DataFrame, *, metric: str = "accuracy", phase: str = "post",
                      ax: plt.Axes | None = None) -> plt.Axes:
    """Ovadia-style boxes: ``metric`` in ``phase`` over runs, one box per strategy at each severity,
    severity on a numeric axis."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == phase]
    with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib a deprecated argument
        warnings.simplefilter("ignore", DeprecationWarning)
        sns.boxplot(data=rows, x="drift.severity", y=metric, **hue_keywords(rows, lines=False), native_scale=True,
                    saturation=1, fliersize=2, linewidth=0.8, medianprops={"linewidth": 1.6}, legend=False, ax=ax)
    _color_boxes(ax, palette.order(rows["strategy"]))
    ax.set_xticks(sorted(rows["drift.severity"].unique()))
    ax.set_xlabel("drift severity")
    ax.set_ylabel(f"{METRIC_NAMES.get(metric, metric)} ({phase}-drift)")
    return ax


def _color_boxes(ax: plt.Axes, names: list[str]) -> None:
    """Edges, whiskers and medians in the strategy's colour, the fill a light tint of it: with few
    seeds a box is narrow and a white median bar would cover its fill, hiding whose box it is.
    Seaborn adds one container per hue level, in ``hue_order``."""
    for name, box in zip(names, [c for c in ax.containers if hasattr(c, "medians")]):
        colour = palette.color(name)
        for patch in box.boxes:
            patch.set_edgecolor(colour)
            patch.set_facecolor(to_rgba(colour, 0.3))
        for line in [*box.medians, *box.whiskers, *box.caps]:
            line.set_color(colour)


# phase -> (title, seaborn dashes); line style marks the phase in confidence curves
PHASES = {"pre": ("before the drift", ""), "post": ("after the drift", (4, 1.5)),
          "novel": ("after the drift, novel-class samples only", (1, 1.2)),
          "all": ("whole stream (drift unknown)", (6, 2))}


def plot_confidence_curve(confidence: pd.DataFrame, *, value: str = "accuracy",
                          ax: plt.Axes | None = None) -> plt.Axes:
    """Accuracy (or share) of the predictions made with confidence >= tau, against tau; colour per
    strategy, line style per phase (Ovadia et al. 2019)."""
    ax = ax or plt.gca()
    phases = [p for p in PHASES if p in set(confidence["phase"])]
    names = palette.order(confidence["strategy"])
    sns.lineplot(data=confidence, x="tau", y=value, hue="strategy", hue_order=names,
                 palette={n: palette.color(n) for n in names}, style="phase", style_order=phases,
                 dashes={p: PHASES[p][1] if len(phases) > 1 else "" for p in phases}, markers=False, errorbar=CI,
                 legend=False, ax=ax)
    ax.set_xlabel(r"confidence threshold $\tau$")
    ax.set_ylabel({"accuracy": r"accuracy when confidence $\geq \tau$",
                   "share": r"share with confidence $\geq \tau$"}.get(value, value))
    return ax


def phase_handles(phases) -> list:
    return [Line2D([], [], color="0.2", linestyle=(0, PHASES[p][1]) if PHASES[p][1] else "-", label=PHASES[p][0])
            for p in PHASES if p in phases]


def plot_reliability(reliability: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Reliability diagram: accuracy against mean confidence per bin (pooled over runs), one line per
    strategy, marker area proportional to the samples in the bin; the diagonal is perfect calibration."""
    ax = ax or plt.gca()
    pooled = (
        reliability.assign(hits=reliability.accuracy * reliability["count"],
                           conf=reliability.confidence * reliability["count"])
        .groupby(["strategy", "bin"], as_index=False)[["hits", "conf", "count"]].sum()
        .query("count > 0")
    )
    pooled = pooled.assign(accuracy=pooled.hits / pooled["count"], confidence=pooled.conf / pooled["count"])
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
    total = max(float(pooled["count"].max()), 1.0) if len(pooled) else 1.0
    for name in palette.order(pooled["strategy"]):
        rows = pooled[pooled.strategy == name].sort_values("confidence")
        ax.plot(rows["confidence"], rows["accuracy"], color=palette.color(name), linestyle=palette.linestyle(name),
                linewidth=1, label=name)
        ax.scatter(rows["confidence"], rows["accuracy"], s=4 + 80 * rows["count"] / total, color=palette.color(name),
                   marker=palette.marker(name), zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (bin mean)")
    ax.set_ylabel("accuracy in the bin")
    return ax


LABEL_AXES = {"replay.label_delay": "label delay (samples from prediction to label)",
              "replay.label_fraction": "share of samples labelled"}


def plot_post_accuracy(runs: pd.DataFrame, *, x: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Post-drift accuracy against the config column ``x``, one line per strategy."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == "post"]
    sns.lineplot(data=rows, x=x, y="accuracy", **hue_keywords(rows), errorbar=CI, legend=False, ax=ax)
    ax.set_xlabel(LABEL_AXES.get(x, x))
    ax.set_ylabel("post-drift accuracy")
    return ax


def pareto_front(x: pd.Series, y: pd.Series) -> pd.Index:
    """Index of the points not dominated by any other (lower ``x`` and higher ``y`` are better)."""
    order = x.sort_values(kind="stable").index
    front, best = [], -float("inf")
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return pd.Index(front)


COST_AXES = {"ms_per_1000": ("compute time per 1,000 samples (ms, log scale)", lambda v, _=None: f"{v:g}"),
             "peak_model_bytes": ("peak model memory (log scale)", format_bytes)}


def plot_cost_tradeoff(points: pd.DataFrame, *, x: str = "ms_per_1000", y: str = "accuracy_post",
                       ax: plt.Axes | None = None) -> plt.Axes:
    """One point per strategy (mean over runs): cost against post-drift accuracy, the Pareto front drawn."""
    ax = ax or plt.gca()
    means = points.groupby("strategy", as_index=False)[[x, y]].mean()
    for name in palette.order(means["strategy"]):
        row = means[means.strategy == name]
        ax.scatter(row[x], row[y], color=palette.color(name), marker=palette.marker(name), s=45, label=name, zorder=3)
    front = means.loc[pareto_front(means[x], means[y])].sort_values(x)
    ax.plot(front[x], front[y], color="0.3", linestyle="--", linewidth=1, label="Pareto front")
    ax.set_xscale("log")
    label, formatter = COST_AXES.get(x, (x, lambda v, _=None: f"{v:g}"))
    log_axis(ax.xaxis, formatter, means[x])
    ax.set_xlim(*covering_ticks(means[x]))
    ax.set_xlabel(label)
    ax.set_ylabel("post-drift accuracy")
    return ax


def plot_critical_difference(ranks: pd.Series, pvalues: pd.DataFrame, *, cd: float | None = None,
                             ax: plt.Axes | None = None) -> plt.Axes:
    """Critical-difference diagram (Demšar 2006) by scikit-posthocs: average ranks on the axis (1 is
    best), strategies no post-hoc test tells apart joined by a bar."""
    import scikit_posthocs as sp

    ax = ax or plt.gca()
    drawn = sp.critical_difference_diagram(ranks, pvalues, cd=cd, ax=ax, color_palette=strategy_colors(ranks.index),
                                           label_fmt_left="{label} ({rank:.2f})",
                                           label_fmt_right="({rank:.2f}) {label}")
    for lines in drawn["crossbars"]:  # each bar is drawn through a set of strategies, in the hash seed's order
        for line in lines:
            line.set_xdata(sorted(line.get_xdata()))
    k = len(ranks)
    ax.set_xlim(1, max(k, 2))  # the whole scale of ranks, 1 (best) to k, not only the span of the data
    ax.set_xticks(range(1, max(k, 2) + 1))
    ax.set_xlabel("")
    return ax


def cost_points(runs: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Per run and strategy: compute time per 1,000 deployment samples, peak memory, post-drift accuracy."""
    n = runs[runs.phase == "all"][["run", "strategy", "n"]]
    post = runs[runs.phase == "post"][["run", "strategy", "accuracy"]].rename(columns={"accuracy": "accuracy_post"})
    points = costs.merge(n, on=["run", "strategy"]).merge(post, on=["run", "strategy"])
    return points.assign(ms_per_1000=(points.predict_s + points.learn_s) / points.n * 1e6)


def _varies(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].nunique() > 1


def drifted(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of the strongest drift when severity varies (severity 0 has no drift to show), and
    a note saying so for the figure's title."""
    if not _varies(frame, "drift.severity"):
        return frame, ""
    top = frame["drift.severity"].max()
    return frame[frame["drift.severity"] == top], f"severity {top:g} only (the strongest drift)"


def drifts(rows: pd.DataFrame) -> bool:
    """Whether any of these runs drifts: a severity above 0 and a kind other than ``none`` (a run
    without those columns, such as a natural drift, counts as drifting)."""
    severity = rows["drift.severity"] if "drift.severity" in rows else pd.Series([1.0])
    kind = rows["drift.kind"] if "drift.kind" in rows else pd.Series(["concept"])
    return bool(((severity.fillna(1.0) > 0) & (kind.fillna("concept") != "none")).any())


def _over_time_figure(windows: pd.DataFrame, conditions: list[str], metric: str) -> plt.Figure:
    panels = condition_panels(windows, conditions)
    band = bool((windows["schedule.width"] > 0).any()) if "schedule.width" in windows else False

    def draw(rows, ax):
        onset = rows["schedule.onset"].iloc[0]  # NaN: a natural drift, not declared
        if not drifts(rows):
            onset = np.nan  # severity 0 or kind none: nothing changes, no onset to mark
        plot_over_time(rows, metric=metric, ax=ax, onset=None if pd.isna(onset) else int(onset),
                       width=int(rows["schedule.width"].iloc[0]))

    seeds = None if metric == "model_bytes" else n_seeds(windows)
    onset = bool(windows["schedule.onset"].notna().any()) if "schedule.onset" in windows else True
    handles = legend_handles(windows["strategy"], onset=onset, band=band, ci_seeds=seeds)
    title = "mean over seeds; markers staggered where lines coincide" if seeds is None else ""
    return panel_figure(panels, draw, handles, title=title)


def _phase_panels(table: pd.DataFrame, conditions: list[str]) -> tuple[list, str]:
    """Panels per condition (strongest severity only) for prediction tables."""
    rows, note = drifted(table)
    return condition_panels(rows, [c for c in conditions if c != "drift.severity"] if note else conditions), note


def confidence_figure(confidence: pd.DataFrame, conditions: list[str]) -> plt.Figure:
    """Confidence curves: accuracy (top row) and share (bottom row) against tau. One column per
    phase for a single condition; else one per condition, the phase as the line style."""
    panels, note = _phase_panels(confidence, conditions)
    values = ("accuracy", "share")
    if len(panels) == 1:
        rows = panels[0][1]
        phases = [p for p in PHASES if (rows.phase == p).any()]
        grid = [(f"{PHASES[p][0]}, {what}", what, rows[rows.phase == p]) for what in values for p in phases]
        cols, phase_keys = len(phases), ()
    else:
        grid = [(f"{title}, {what}", what, rows) for what in values for title, rows in panels]
        cols, phase_keys = min(len(panels), 4), tuple(phase_handles(set(confidence["phase"])))
    fig, axes, spare = panel_grid(len(grid), cols=cols, sharey=False)
    for ax, (title, what, rows) in zip(axes, grid):
        plot_confidence_curve(rows, value=what, ax=ax)
        ax.set_title(title, fontsize="medium")
        ax.set_ylim(0, 1.02)
    colours = [Line2D([], [], color=palette.color(n), label=n) for n in palette.order(confidence["strategy"])]
    handles = colours + legend_handles([], ci_seeds=n_seeds(confidence), extra=phase_keys)
    figure_legend(fig, spare, handles)
    if note:
        fig.suptitle(note)
    return fig


def reliability_figure(reliability: pd.DataFrame, conditions: list[str]) -> plt.Figure:
    """Reliability diagrams per condition and phase (before, after, novel-class samples after)."""
    panels, note = _phase_panels(reliability, conditions)
    grid = [(f"{title}{', ' if title else ''}{PHASES[phase][0]}", rows[rows.phase == phase])
            for title, rows in panels for phase in PHASES if (rows.phase == phase).any()]
    size_key = Line2D([], [], color="0.4", marker="o", linestyle="none", label="marker area: samples in the bin")
    diagonal = Line2D([], [], color="0.6", linestyle=":", label="perfect calibration")
    handles = legend_handles(reliability["strategy"], extra=(size_key, diagonal))
    return panel_figure(grid, lambda rows, ax: plot_reliability(rows, ax=ax), handles,
                   cols=min(len(grid), 3 if len(grid) % 3 == 0 else 4), title=note)


def severity_boxes_figure(runs: pd.DataFrame, conditions: list[str]) -> plt.Figure:
    """Post-drift accuracy (top) and ECE (bottom) per severity, one column per other condition."""
    panels = condition_panels(runs, [c for c in conditions if c != "drift.severity"])
    fig, axes, spare = panel_grid(2 * len(panels), cols=min(len(panels), 4), sharey="row", width=3.6)
    for i, (ax, (title, rows)) in enumerate(zip(axes, panels + panels)):
        metric = "accuracy" if i < len(panels) else "ece"
        plot_metric_boxes(rows, metric=metric, ax=ax)
        ax.set_title(title, fontsize="medium")
    drop_legends(axes)
    boxes = [Patch(facecolor=to_rgba(palette.color(n), 0.3), edgecolor=palette.color(n), label=n)
             for n in palette.order(runs["strategy"])]
    figure_legend(fig, spare, boxes + [Patch(facecolor="white", edgecolor="0.3", label="box: quartiles over seeds; "
                                       "bar: median")])
    fig.suptitle(f"{n_seeds(runs)} seeds per strategy and severity")
    return fig


def figure_names(runs: pd.DataFrame) -> list[str]:
    """Every figure the runs support (figures against severity or label delay need it to vary)."""
    return [n for n in FIGURES if n not in NEEDS or _varies(runs, NEEDS[n])]


def build_figure(tables: dict[str, pd.DataFrame], name: str, *, conditions: list[str]) -> plt.Figure:
    """The figure ``name`` (one of ``FIGURES``) from the report's tables, not yet saved."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; available: {sorted(FIGURES)}")
    # Titles at a fixed height: by default matplotlib measures every tick label of every axes to place
    # each title (a tenth of the drawing time); nothing of these figures sits above its axes, so the
    # files are the same bytes.
    sns.set_theme(style="whitegrid", context="paper", rc={"axes.titley": 1.0})
    runs, windows = tables["runs"], tables["windows"]
    palette.read_families(runs)

    def against(column: str, draw) -> plt.Figure:
        handles = legend_handles(runs["strategy"], ci_seeds=n_seeds(runs))
        return panel_figure(condition_panels(runs, [c for c in conditions if c != column]), draw, handles)

    def cost() -> plt.Figure:
        points = cost_points(runs, tables["costs"])
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, layout="constrained")
        plot_cost_tradeoff(points, ax=axes[0])
        plot_cost_tradeoff(points, x="peak_model_bytes", ax=axes[1])
        axes[1].yaxis.set_tick_params(labelleft=True)
        front = Line2D([], [], color="0.3", linestyle="--", label="Pareto front")
        drop_legends(axes)
        figure_legend(fig, [], legend_handles(points["strategy"], line=False, extra=(front,)))
        fig.suptitle(f"mean over {n_seeds(points)} seeds" + (" and all conditions" if conditions else ""))
        return fig

    builders = {
        "accuracy_over_time": lambda: _over_time_figure(windows, conditions, "accuracy"),
        "confident_errors_over_time": lambda: _over_time_figure(windows, conditions, "confident_error_rate"),
        "memory_over_time": lambda: _over_time_figure(windows, conditions, "model_bytes"),
        "drift_induced_error": lambda: against(
            "drift.severity", lambda rows, ax: plot_drift_induced_error(rows, ax=ax)),
        "label_budget": lambda: against(
            "replay.label_delay", lambda rows, ax: plot_post_accuracy(rows, x="replay.label_delay", ax=ax)),
        "severity_boxes": lambda: severity_boxes_figure(runs, conditions),
        "confidence_curves": lambda: confidence_figure(tables["confidence"], conditions),
        "reliability": lambda: reliability_figure(tables["reliability"], conditions),
        "cost_tradeoff": cost,
        "pipeline_faults": lambda: pipeline.pipeline_faults_figure(
            runs, legend_handles(runs["strategy"], ci_seeds=n_seeds(runs))),
        "pipeline_detection": lambda: pipeline.pipeline_detection_figure(runs),
    }
    return builders[name]()


NEEDS = {"drift_induced_error": "drift.severity", "severity_boxes": "drift.severity",
         "label_budget": "replay.label_delay", "pipeline_faults": "drift.fault", "pipeline_detection": "drift.fault"}


def draw_figures(tables: dict[str, pd.DataFrame], out: Path, *, conditions: list[str],
                 names: list[str] | None = None, extra: dict[str, Callable[[], plt.Figure]] | None = None,
                 meanwhile: Callable[[], list[Path]] | None = None) -> list[Path]:
    """Draw the named figures (default: every one the tables support) as PNG and PDF into ``out``,
    and ``extra`` (a figure's name: a function that builds it); ``meanwhile`` (other files to write)
    is called in this process while forks draw, or first when it draws them itself. Returns the
    paths ``meanwhile`` wrote, then the figures'.

    ``conditions`` are the config columns that vary across runs (seed excluded): figures over time
    get one panel per condition, figures against severity or label delay one per other condition.
    """
    names = figure_names(tables["runs"]) if names is None else names
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; available: {sorted(FIGURES)}")
    meanwhile = meanwhile or list
    out.mkdir(parents=True, exist_ok=True)
    _drawing.update(tables=tables, out=out, conditions=conditions, extra=extra or {})
    every = [*names, *_drawing["extra"]]
    try:
        if len(every) > 1 and forks_safely():
            # each figure drawn by a fork of this process, all at once (the cores share them out, so
            # the longest does not wait for a free worker): the fork already holds the tables and
            # matplotlib, so it starts at once, where a fresh interpreter would import for a second
            with ProcessPoolExecutor(min(len(every), MAX_FORKS), mp_context=multiprocessing.get_context("fork")) as pool:
                drawn = pool.map(_draw_one, every)
                written = meanwhile()
                return written + [path for paths in drawn for path in paths]
        return meanwhile() + [path for name in every for path in _draw_one(name)]
    finally:
        _drawing.clear()


MAX_FORKS = 4  # figures drawn at once at most: enough to keep two cores busy
_drawing: dict = {}  # what draw_figures is drawing, read by _draw_one here or in a forked copy


def _draw_one(name: str) -> list[Path]:
    extra = _drawing["extra"]
    figure = extra[name]() if name in extra else build_figure(_drawing["tables"], name, conditions=_drawing["conditions"])
    return save_figure(figure, _drawing["out"] / name)


def forks_safely() -> bool:
    """Whether this process may fork to draw: on Linux, with a second CPU it may run on, no other
    thread running (a lock held by one would stay held in the copy) and no torch loaded (its thread
    pools do not survive a fork). True in a sweep's report process (harness.results.follow) and in
    ``harness.report``."""
    return (sys.platform == "linux" and cpu_count() > 1 and threading.active_count() == 1
            and "torch" not in sys.modules)
