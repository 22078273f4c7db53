"""Figures drawn from results tables (never from models). Seaborn lives here only.

Every figure follows the same rules: a strategy has one colour and one line style/marker (its
family's) in every figure (``harness.figures.palette``); one legend per figure, in an empty grid cell or
outside the panels, with an entry for the drift onset, the drift transition band and the 95%
interval of the mean over seeds (Student's t); panels of one figure share their y range; one panel per condition, none dropped.
"""

from __future__ import annotations

import json
import warnings
from functools import partial
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
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402
from scipy import stats  # noqa: E402

from harness.figures import palette  # noqa: E402
from harness.results.store import atomic_write  # noqa: E402


def t_interval(values) -> tuple[float, float]:
    """The 95% confidence interval of the mean of ``values`` (one per seed), Student's t with
    ``n - 1`` degrees of freedom: exact for normal data, computed from the data in one step (a
    bootstrap refits thousands of resamples and, with a handful of seeds, is too narrow). A single
    value has no interval.

    >>> [round(float(v), 3) for v in t_interval([1.0, 2.0, 3.0])]
    [-0.484, 4.484]
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    mean = float(np.mean(values)) if values.size else float("nan")
    if values.size < 2:
        return mean, mean
    half = stats.t.ppf(0.975, values.size - 1) * np.std(values, ddof=1) / np.sqrt(values.size)
    return mean - half, mean + half


CI = t_interval  # seaborn's errorbar: the mean over seeds and its 95% t-interval
LABELS = {
    "accuracy": "accuracy (windowed)",
    "confident_error_rate": "confident-error rate (windowed)",
    "ece": "ECE (windowed)",
    "mean_confidence": "mean confidence (windowed)",
    "model_bytes": "model memory",
    "regret": "regret (oracle_switch acc. - acc.)",
}
METRIC_NAMES = {"ece": "ECE", "nll": "NLL", "brier": "Brier score"}
ONSET = {"color": "0.25", "linestyle": (0, (5, 3)), "linewidth": 1.0}
BAND = {"color": "0.88", "zorder": 0}
# How a condition column reads in a panel title.
TITLES = {
    "drift.kind": "{} drift",
    "drift.severity": "severity {:g}",
    "drift.pattern": "{} pattern",
    "stream.family": "{} stream",
    "replay.label_delay": "label delay {:g} samples",
    "replay.label_fraction": "{:.0%} of samples labelled",
}


def strategy_colors(strategies) -> dict:
    """The same colour for a strategy in every figure (``harness.figures.palette``), in legend order."""
    return {name: palette.color(name) for name in palette.order(strategies)}


def _hue(frame: pd.DataFrame, *, lines: bool = True) -> dict:
    """Seaborn keywords: colour by strategy and, for lines, the family's dashes and marker."""
    names = palette.order(frame["strategy"])
    kwargs = {"hue": "strategy", "hue_order": names, "palette": {n: palette.color(n) for n in names}}
    if lines:
        kwargs |= {"style": "strategy", "style_order": names, "dashes": {n: palette.dashes(n) for n in names},
                   "markers": {n: palette.marker(n) for n in names}}
    return kwargs


def strategy_handle(name: str, *, line: bool = True) -> Line2D:
    """Legend key of a strategy: its colour, its family's line style and marker."""
    return Line2D([], [], color=palette.color(name), linestyle=palette.linestyle(name) if line else "none",
                  marker=palette.marker(name), markersize=5, label=name)


def n_seeds(frame: pd.DataFrame) -> int:
    return int(frame["seed"].nunique()) if "seed" in frame else 1


def legend_handles(strategies, *, onset: bool = False, band: bool = False, ci_seeds: int | None = None,
                   line: bool = True, extra: tuple = ()) -> list:
    """Every legend entry a figure needs: strategies, then the marks that explain the rest."""
    handles = [strategy_handle(name, line=line) for name in palette.order(strategies)]
    if onset:
        handles.append(Line2D([], [], **ONSET, label="drift onset"))
    if band:
        handles.append(Patch(facecolor=BAND["color"], label="drift transition (onset to onset + width)"))
    if ci_seeds:
        handles.append(Patch(facecolor="0.6", alpha=0.35, label=f"95% t-interval of the mean over {ci_seeds} seeds"))
    return handles + list(extra)


def condition_title(conditions: list[str], key) -> str:
    """A panel title people read: ``concept drift, severity 0.5`` rather than ``drift.kind=concept``."""
    values = key if isinstance(key, tuple) else (key,)
    parts = []
    for column, value in zip(conditions, values):
        template = TITLES.get(column)
        try:
            parts.append(template.format(value) if template else f"{column.split('.')[-1].replace('_', ' ')} {value}")
        except (ValueError, TypeError):
            parts.append(f"{column.split('.')[-1].replace('_', ' ')} {value}")
    return ", ".join(parts)


def _panels(frame: pd.DataFrame, conditions: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) per combination of the condition columns: every one, none dropped."""
    if not conditions:
        return [("", frame)]
    return [(condition_title(conditions, key), rows) for key, rows in frame.groupby(conditions, sort=True)]


def _grid(n: int, *, cols: int | None = None, width: float = 4.2, height: float = 3.1, sharey: bool | str = True):
    """``n`` panels on a grid of at most 4 columns with a shared y axis. Returns the figure, the
    ``n`` panels and the spare cells (hidden, or the legend's place)."""
    cols = cols or (min(n, 4) if n != 4 else 2)
    rows = -(-n // cols)
    width = width * 2 if n == 1 else width
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             sharey=sharey, layout="constrained")
    spare = list(axes.flat[n:])
    for ax in spare:
        ax.set_axis_off()
    return fig, list(axes.flat[:n]), spare


def _legend(fig: plt.Figure, spare: list, handles: list) -> None:
    """One legend per figure: in the first empty cell of the grid, right of a single panel, else
    below the panels."""
    if spare:
        spare[0].legend(handles=handles, loc="center", fontsize="small", frameon=False)
    elif len([ax for ax in fig.axes if ax.axison]) == 1:
        fig.legend(handles=handles, loc="outside right center", fontsize="small", frameon=False)
    else:
        ncols = max(1, min(len(handles), 4, int(fig.get_figwidth() // 2.6)))
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)


def _drop_legends(axes) -> None:
    for ax in axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()


def format_bytes(value: float, _pos=None) -> str:
    """Tick label for a memory size in decimal units.

    >>> format_bytes(73232), format_bytes(2.5e6), format_bytes(512)
    ('73.2 kB', '2.5 MB', '512 B')
    """
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.3g} B"


def _log_axis(axis, formatter, values=None) -> None:
    """A log axis labelled on the decades, or at 1, 2 and 5 times a decade when ``values`` span less
    than two decades; never on the minor ticks (their labels overprint)."""
    values = np.asarray(values if values is not None else [], dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    short = len(values) and np.log10(values.max() / values.min()) < 2
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if short else (1.0,)))
    axis.set_major_formatter(FuncFormatter(formatter))
    axis.set_minor_formatter(NullFormatter())


def _covering_ticks(values) -> tuple[float, float]:
    """Log-axis limits just beyond a labelled tick at or below the smallest value and one at or above
    the largest (the ticks of :func:`_log_axis`), so that no point sits beyond the first or last label."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return 1.0, 10.0
    subs = (1.0, 2.0, 5.0) if np.log10(values.max() / values.min()) < 2 else (1.0,)
    decades = range(int(np.floor(np.log10(values.min()))) - 1, int(np.ceil(np.log10(values.max()))) + 2)
    ticks = sorted(sub * 10.0**k for k in decades for sub in subs)
    low = max(t for t in ticks if t <= values.min())
    high = min(t for t in ticks if t >= values.max())
    return low / 1.12, high * 1.12  # a margin: the end markers stay whole


def mark_drift(ax: plt.Axes, *, onset: int | None, width: int) -> plt.Axes:
    """A dashed line at the drift onset and a shaded band over its width; nothing when the onset is
    None (the natural drift of real data, not declared)."""
    if onset is None:
        return ax
    ax.axvline(onset, **ONSET, label="drift onset")
    if width > 0:
        ax.axvspan(onset, onset + width, **BAND, label="drift transition")
    return ax


def plot_over_time(
    windows: pd.DataFrame, *, metric: str, ax: plt.Axes | None = None, onset: int | None = None, width: int = 0
) -> plt.Axes:
    """``metric`` per window against deployment time, one line per strategy: the mean over the runs
    in ``windows`` with its 95% CI. Model memory: the mean only (seeds choose different widths), on a
    log axis in kB/MB, markers staggered so that strategies of equal size stay visible."""
    ax = ax or plt.gca()
    if metric == "model_bytes":
        means = windows.dropna(subset=[metric]).groupby(["strategy", "t_end"], as_index=False)[metric].mean()
        names = palette.order(means["strategy"])
        for i, name in enumerate(names):
            rows = means[means.strategy == name]
            ax.plot(rows["t_end"], rows[metric], color=palette.color(name), linestyle=palette.linestyle(name),
                    marker=palette.marker(name), markersize=4, markevery=(i % 4, 4), label=name)
        ax.set_yscale("log")
        _log_axis(ax.yaxis, format_bytes, means[metric])
    else:
        sns.lineplot(data=windows, x="t_end", y=metric, **_hue(windows), markersize=4, errorbar=CI, legend=False,
                     ax=ax)
    if onset is not None:
        mark_drift(ax, onset=onset, width=width)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel(LABELS.get(metric, metric))
    return ax


def plot_regret(windows: pd.DataFrame, *, ax: plt.Axes | None = None, onset: int | None = None,
                width: int = 0) -> plt.Axes:
    """Regret per window (``oracle_switch``'s accuracy minus the strategy's, from ``windows.csv``)
    against deployment time, one line per strategy in its fixed colour; 0 is the achievable ceiling."""
    measured = windows.dropna(subset=["regret"])
    if measured.empty:  # no oracle_switch in these runs: an empty panel, labelled, rather than a warning
        ax = ax or plt.gca()
        ax.set_xlabel("deployment time (samples)")
        ax.set_ylabel(LABELS["regret"])
    else:
        ax = plot_over_time(measured, metric="regret", ax=ax, onset=onset, width=width)
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    return ax


def drift_title(schedule: dict) -> str:
    """``concept drift (sudden, severity 1)``; for real data ``natural drift, unknown`` or ``natural
    drift, declared change points [t1, ...]``.

    >>> drift_title({"kind": "natural", "pattern": "unknown", "change_points": []})
    'natural drift, unknown'
    """
    if schedule["kind"] == "natural":
        points = schedule["change_points"]
        return f"natural drift, declared change points {points}" if points else "natural drift, unknown"
    return f"{schedule['kind']} drift ({schedule['pattern']}, severity {schedule['severity']:g})"


def reference_line(stream: dict) -> tuple[float, str]:
    """The accuracy panel's reference: on recorded data the majority-class accuracy of the offline
    data (what always answering the commonest offline label scores there), else chance ``1/K``.

    >>> reference_line({"n_classes": 2, "recorded": True, "offline_majority_accuracy": 0.7})
    (0.7, 'majority class (offline) = 0.70')
    """
    if stream.get("recorded"):
        share = stream["offline_majority_accuracy"]
        return share, f"majority class (offline) = {share:.2f}"
    chance = 1 / stream["n_classes"]
    return chance, f"chance (1/{stream['n_classes']} = {chance:.2f})"


def time_axis(stream: dict, window: int):
    """``(to_time, label)``: deployment sample counts -> the stream's own time, and the x-axis label.
    Recorded data with a time column (``stream.json``'s ``time_axis``: a ``scale`` per sample, or the
    time column's ``values`` row by row, dates parsed) are drawn against it; other streams in samples."""
    axis = stream.get("time_axis")
    if not axis:
        return (lambda t: t), f"deployment time (samples; windows of {window})"
    label = f"deployment time: {axis['label']} (windows of {window} samples)"
    if "scale" in axis:
        return (lambda t: np.asarray(t, dtype=float) * axis["scale"]), label
    values = pd.Series(axis["values"])
    if not pd.api.types.is_numeric_dtype(values):
        values = pd.to_datetime(values)
    last = len(values) - 1
    return (lambda t: values.iloc[np.clip(np.asarray(t, dtype=int) - 1, 0, last)].to_numpy()), label


def plot_run(run_dir: Path) -> Path:
    """``figure.png`` of a run (:func:`run_figure`), written whole."""
    fig = run_figure(run_dir)
    path = atomic_write(Path(run_dir) / "figure.png", lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)
    return path


def run_figure(run_dir: Path) -> plt.Figure:
    """The figure of a run: windowed accuracy (with its reference line: chance, or on recorded data
    the offline majority class) and confident-error rate, and the regret when the run has
    ``oracle_switch``; recorded data with a time column are drawn against it. Reads only the run's files."""
    run_dir = Path(run_dir)
    windows = pd.read_csv(run_dir / "windows.csv")
    palette.read_families(pd.read_csv(run_dir / "summary.csv"))
    stream = json.loads((run_dir / "stream.json").read_text())
    schedule = stream["schedule"]
    window = int(windows["t_end"].min())  # tumbling windows: the first one ends at the window size
    to_time, xlabel = time_axis(stream, window)
    onset, width = schedule["onset"], schedule["width"]
    if onset is not None:
        start = to_time([onset])[0]
        onset, width = start, (to_time([onset + width])[0] - start if width > 0 else 0)
    windows = windows.assign(t_end=to_time(windows["t_end"]))
    metrics = ["accuracy", "confident_error_rate"]
    if "regret" in windows and windows["regret"].notna().any():
        metrics.append("regret")
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7, 3 * len(metrics)), sharex=True, layout="constrained")
    for ax, metric in zip(axes, metrics):
        draw = plot_regret if metric == "regret" else partial(plot_over_time, metric=metric)
        draw(windows, ax=ax, onset=onset, width=width)
    reference, reference_label = reference_line(stream)
    axes[0].axhline(reference, color="0.5", linestyle=":", linewidth=1)
    reference_key = Line2D([], [], color="0.5", linestyle=":", label=reference_label)
    axes[0].set_ylim(0, 1.02)
    axes[1].set_ylim(bottom=0)
    axes[-1].set_xlabel(xlabel)
    fig.legend(handles=legend_handles(windows["strategy"], onset=schedule["onset"] is not None,
                                      band=schedule["width"] > 0, extra=(reference_key,)),
               loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    fig.suptitle(f"{stream['family']} stream, {drift_title(schedule)}, one run (seed {stream['seed']})")
    return fig


# -- figures of a sweep, drawn from the tables harness.results.report aggregates ---------------------------


def plot_drift_induced_error(runs: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Drift-induced error (post minus pre error) against severity, one line per strategy."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == "all"]
    sns.lineplot(data=rows, x="drift.severity", y="drift_induced_error", **_hue(rows), errorbar=CI,
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
        sns.boxplot(data=rows, x="drift.severity", y=metric, **_hue(rows, lines=False), native_scale=True, saturation=1,
                    fliersize=2, linewidth=0.8, medianprops={"linewidth": 1.6}, legend=False, ax=ax)
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
    sns.lineplot(data=rows, x=x, y="accuracy", **_hue(rows), errorbar=CI, legend=False, ax=ax)
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
    _log_axis(ax.xaxis, formatter, means[x])
    ax.set_xlim(*_covering_ticks(means[x]))
    ax.set_xlabel(label)
    ax.set_ylabel("post-drift accuracy")
    return ax


def plot_critical_difference(ranks: pd.Series, pvalues: pd.DataFrame, *, cd: float | None = None,
                             ax: plt.Axes | None = None) -> plt.Axes:
    """Critical-difference diagram (Demšar 2006) by scikit-posthocs: average ranks on the axis (1 is
    best), strategies no post-hoc test tells apart joined by a bar."""
    import scikit_posthocs as sp

    ax = ax or plt.gca()
    sp.critical_difference_diagram(ranks, pvalues, cd=cd, ax=ax, color_palette=strategy_colors(ranks.index),
                                   label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}")
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


def _figure(panels: list[tuple[str, pd.DataFrame]], draw, handles: list, *, cols: int | None = None,
            sharey: bool = True, title: str = "") -> plt.Figure:
    """One panel per (title, rows), drawn by ``draw(rows, ax)``, one legend, one y range."""
    fig, axes, spare = _grid(len(panels), cols=cols, sharey=sharey)
    for ax, (panel_title, rows) in zip(axes, panels):
        draw(rows, ax)
        ax.set_title(panel_title, fontsize="medium")
        ax.yaxis.set_tick_params(labelleft=True)
    _drop_legends(axes)
    _legend(fig, spare, handles)
    if title:
        fig.suptitle(title)
    return fig


def drifts(rows: pd.DataFrame) -> bool:
    """Whether any of these runs drifts: a severity above 0 and a kind other than ``none`` (a run
    without those columns, such as a natural drift, counts as drifting)."""
    severity = rows["drift.severity"] if "drift.severity" in rows else pd.Series([1.0])
    kind = rows["drift.kind"] if "drift.kind" in rows else pd.Series(["concept"])
    return bool(((severity.fillna(1.0) > 0) & (kind.fillna("concept") != "none")).any())


def _over_time_figure(windows: pd.DataFrame, conditions: list[str], metric: str) -> plt.Figure:
    panels = _panels(windows, conditions)
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
    return _figure(panels, draw, handles, title=title)


def _phase_panels(table: pd.DataFrame, conditions: list[str]) -> tuple[list, str]:
    """Panels per condition (strongest severity only) for prediction tables."""
    rows, note = drifted(table)
    return _panels(rows, [c for c in conditions if c != "drift.severity"] if note else conditions), note


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
    fig, axes, spare = _grid(len(grid), cols=cols, sharey=False)
    for ax, (title, what, rows) in zip(axes, grid):
        plot_confidence_curve(rows, value=what, ax=ax)
        ax.set_title(title, fontsize="medium")
        ax.set_ylim(0, 1.02)
    colours = [Line2D([], [], color=palette.color(n), label=n) for n in palette.order(confidence["strategy"])]
    handles = colours + legend_handles([], ci_seeds=n_seeds(confidence), extra=phase_keys)
    _legend(fig, spare, handles)
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
    return _figure(grid, lambda rows, ax: plot_reliability(rows, ax=ax), handles,
                   cols=min(len(grid), 3 if len(grid) % 3 == 0 else 4), title=note)


def severity_boxes_figure(runs: pd.DataFrame, conditions: list[str]) -> plt.Figure:
    """Post-drift accuracy (top) and ECE (bottom) per severity, one column per other condition."""
    panels = _panels(runs, [c for c in conditions if c != "drift.severity"])
    fig, axes, spare = _grid(2 * len(panels), cols=min(len(panels), 4), sharey="row", width=3.6)
    for i, (ax, (title, rows)) in enumerate(zip(axes, panels + panels)):
        metric = "accuracy" if i < len(panels) else "ece"
        plot_metric_boxes(rows, metric=metric, ax=ax)
        ax.set_title(title, fontsize="medium")
    _drop_legends(axes)
    boxes = [Patch(facecolor=to_rgba(palette.color(n), 0.3), edgecolor=palette.color(n), label=n)
             for n in palette.order(runs["strategy"])]
    _legend(fig, spare, boxes + [Patch(facecolor="white", edgecolor="0.3", label="box: quartiles over seeds; "
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
    sns.set_theme(style="whitegrid", context="paper")
    runs, windows = tables["runs"], tables["windows"]
    palette.read_families(runs)

    def against(column: str, draw) -> plt.Figure:
        handles = legend_handles(runs["strategy"], ci_seeds=n_seeds(runs))
        return _figure(_panels(runs, [c for c in conditions if c != column]), draw, handles)

    def cost() -> plt.Figure:
        points = cost_points(runs, tables["costs"])
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True, layout="constrained")
        plot_cost_tradeoff(points, ax=axes[0])
        plot_cost_tradeoff(points, x="peak_model_bytes", ax=axes[1])
        axes[1].yaxis.set_tick_params(labelleft=True)
        front = Line2D([], [], color="0.3", linestyle="--", label="Pareto front")
        _drop_legends(axes)
        _legend(fig, [], legend_handles(points["strategy"], line=False, extra=(front,)))
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
        "pipeline_faults": lambda: pipeline_plots().pipeline_faults_figure(
            runs, legend_handles(runs["strategy"], ci_seeds=n_seeds(runs))),
        "pipeline_detection": lambda: pipeline_plots().pipeline_detection_figure(runs),
    }
    return builders[name]()


def pipeline_plots():
    """The pipeline study's figures (imported when drawn: that module reads this one's interval)."""
    import harness.figures.pipeline

    return harness.figures.pipeline


FIGURES = ("accuracy_over_time", "confident_errors_over_time", "memory_over_time", "drift_induced_error",
           "label_budget", "severity_boxes", "confidence_curves", "reliability", "cost_tradeoff", "pipeline_faults",
           "pipeline_detection")
NEEDS = {"drift_induced_error": "drift.severity", "severity_boxes": "drift.severity",
         "label_budget": "replay.label_delay", "pipeline_faults": "drift.fault", "pipeline_detection": "drift.fault"}


def draw_figures(tables: dict[str, pd.DataFrame], out: Path, *, conditions: list[str],
                 names: list[str] | None = None) -> list[Path]:
    """Draw the named figures (default: every one the tables support) as PNG and PDF into ``out``.

    ``conditions`` are the config columns that vary across runs (seed excluded): figures over time
    get one panel per condition, figures against severity or label delay one per other condition.
    """
    names = figure_names(tables["runs"]) if names is None else names
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; available: {sorted(FIGURES)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        written += save_figure(build_figure(tables, name, conditions=conditions), out / name)
    return written


def save_figure(fig: plt.Figure, stem: Path) -> list[Path]:
    """``stem``.png and .pdf, written atomically; the figure is closed. The layout (constrained,
    a third of a save) is computed once, for the PNG: its positions are fractions of the figure and
    text sizes are in points, so the PDF, drawn with the layout engine off, has the same layout."""
    written = [atomic_write(stem.with_suffix(".png"), lambda tmp: fig.savefig(tmp, dpi=130))]
    fig.set_layout_engine("none")
    written.append(atomic_write(stem.with_suffix(".pdf"), lambda tmp: fig.savefig(tmp, dpi=130)))
    plt.close(fig)
    return written


def plot_stream_points(points: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Samples on their first two principal components, coloured by class (never a strategy colour);
    novel ones as crosses; each class's mean as a large outlined disc. ``points`` holds ``pc_0``,
    ``pc_1``, ``y`` and ``novel`` (one part of ``stream_points.csv``)."""
    ax = ax or plt.gca()
    for novel, marker in ((False, "o"), (True, "x")):
        rows = points[points["novel"] == novel]
        ax.scatter(rows["pc_0"], rows["pc_1"], c=[palette.class_color(k) for k in rows["y"]], s=7 if not novel else 14,
                   alpha=0.55, linewidths=0 if not novel else 0.8, marker=marker)
    means = points.groupby("y")[["pc_0", "pc_1"]].mean()
    ax.scatter(means["pc_0"], means["pc_1"], c=[palette.class_color(k) for k in means.index], s=110,
               edgecolors="black", linewidths=1.2, zorder=3)
    ax.set_xlabel("principal component 1 (offline)")
    ax.set_ylabel("principal component 2 (offline)")
    return ax


def class_handles(classes, *, novel: bool = False) -> list:
    handles = [Line2D([], [], color=palette.class_color(k), marker="o", linestyle="none", label=f"class {k}")
               for k in sorted(classes)]
    handles.append(Line2D([], [], color="0.7", marker="o", markeredgecolor="black", markersize=9, linestyle="none",
                          label="class mean"))
    if novel:
        handles.append(Line2D([], [], color="0.3", marker="x", linestyle="none", label="novel-class sample"))
    return handles


def plot_class_priors(timeline: pd.DataFrame, progress: pd.DataFrame | None = None, *,
                      ax: plt.Axes | None = None) -> plt.Axes:
    """Class shares per window against deployment time; the drift progress (black) per sample from
    ``progress`` (a sudden drift is a step), else the window means of ``timeline``."""
    ax = ax or plt.gca()
    for k, rows in timeline.groupby("class"):
        ax.plot(rows["t_end"], rows["prior"], color=palette.class_color(k), marker="o", markersize=3,
                label=f"class {k}")
    if progress is not None:
        ax.step(progress["t"], progress["drift_progress"], where="post", color="black", linewidth=1.2,
                label="drift progress")
    else:
        first = timeline.drop_duplicates("t_end")
        ax.plot(first["t_end"], first["drift_progress"], color="black", label="drift progress (window mean)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel("class share in the window / drift progress")
    return ax


def plot_window_share(timeline: pd.DataFrame, column: str, *, ylabel: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Per window of ``timeline`` (stream_timeline.csv), its share ``column`` in [0, 1] over time."""
    ax = ax or plt.gca()
    first = timeline.drop_duplicates("t_end")
    ax.plot(first["t_end"], first[column], color="0.15", marker="o", markersize=3)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel(ylabel)
    return ax


def plot_label_agreement(timeline: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Per window, the share of deployment labels equal to the label of the nearest offline sample:
    the offline labelling rule still holding (falls under concept drift even when P(x) is unchanged)."""
    return plot_window_share(timeline, "nn_agreement", ylabel="label = nearest offline sample's label", ax=ax)


def plot_vocabulary_overlap(timeline: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Per window, the share of a token stream's tokens outside the offline vocabulary: what a frozen
    closed vocabulary turns into ``<unk>``."""
    return plot_window_share(timeline, "oov_share", ylabel="share of tokens out of the offline vocabulary", ax=ax)


def plot_stream(run_dir: Path) -> Path:
    """``stream.png`` of a run: offline vs deployment samples (after the onset) with class means,
    class priors with the drift progress, and the agreement of deployment labels with the offline
    labelling rule (for a token stream: the share of out-of-vocabulary tokens), from ``stream_points.csv``, ``stream_timeline.csv`` and ``stream_progress.csv``."""
    run_dir = Path(run_dir)
    points = pd.read_csv(run_dir / "stream_points.csv")
    timeline = pd.read_csv(run_dir / "stream_timeline.csv")
    progress_path = run_dir / "stream_progress.csv"
    progress = pd.read_csv(progress_path) if progress_path.is_file() else None
    stream = json.loads((run_dir / "stream.json").read_text())
    schedule = stream["schedule"]
    window = int(timeline["t_end"].min())
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.4), layout="constrained")
    # each part's central 99%, joined: a deployment that moved away from the offline data stays in view
    parts = points.groupby("part")[["pc_0", "pc_1"]].quantile([0.005, 0.995]).unstack()
    limits = pd.DataFrame({pc: [parts[(pc, 0.005)].min(), parts[(pc, 0.995)].max()] for pc in ("pc_0", "pc_1")})
    for ax, part in zip(axes[0], ("offline", "deployment")):
        plot_stream_points(points[points["part"] == part], ax=ax)
        ax.set_xlim(*limits["pc_0"])
        ax.set_ylim(*limits["pc_1"])
        after = "all of it" if schedule["onset"] is None else f"t >= onset ({schedule['onset']})"
        ax.set_title("offline data" if part == "offline" else f"deployment, {after}")
    axes[0, 1].sharey(axes[0, 0])
    plot_class_priors(timeline, progress, ax=axes[1, 0])
    drawn = schedule["onset"] is not None  # real data with an unknown drift: no progress curve to name
    axes[1, 0].set_title(f"class shares (windows of {window})" + (" and drift progress" if drawn else ""))
    if "oov_share" in timeline:  # a token stream: 1-NN on token ids means nothing, vocabulary overlap does
        plot_vocabulary_overlap(timeline, ax=axes[1, 1])
        axes[1, 1].set_title("vocabulary overlap: out-of-vocabulary tokens")
        if np.ptp(timeline["oov_share"].to_numpy(dtype=float)) == 0:  # e.g. concept drift: same words, new meaning
            axes[1, 1].text(0.5, 0.5, "the vocabulary did not change", transform=axes[1, 1].transAxes,
                            ha="center", va="center", fontsize="medium", color="0.2")
    elif "nn_agreement" in timeline:
        plot_label_agreement(timeline, ax=axes[1, 1])
        axes[1, 1].set_title("offline labelling rule still holding (1-NN)")
    else:
        axes[1, 1].set_axis_off()
    for ax in axes[1]:
        if ax.axison:
            mark_drift(ax, onset=schedule["onset"], width=schedule["width"])
    handles = class_handles(points["y"].unique(), novel=bool(points["novel"].any()))
    if schedule["onset"] is not None:  # an unknown drift has no progress to draw
        handles += [Line2D([], [], color="black", label="drift progress (0 = offline concept, 1 = drifted)")]
    handles += legend_handles([], onset=schedule["onset"] is not None, band=schedule["width"] > 0)
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small", frameon=False)
    fig.suptitle(f"{stream['family']} stream, {drift_title(schedule)}")
    path = atomic_write(run_dir / "stream.png", lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return path
