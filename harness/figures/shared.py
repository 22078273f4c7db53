"""What every figure shares: the mean over seeds and its interval, the legend (one per figure, a
strategy's colour and line style from ``harness.figures.palette``), panels per condition on one y
range, log axes in readable units, the drift onset and band, the line of a metric over time, and
saving a figure whole. Seaborn lives in ``harness.figures`` only.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

# every figure is saved as PDF too: its backend loaded once, not by each fork that draws a figure
from matplotlib.backends import backend_pdf  # noqa: F401
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


def hue_keywords(frame: pd.DataFrame, *, lines: bool = True) -> dict:
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


def condition_panels(frame: pd.DataFrame, conditions: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) per combination of the condition columns: every one, none dropped."""
    if not conditions:
        return [("", frame)]
    return [(condition_title(conditions, key), rows) for key, rows in frame.groupby(conditions, sort=True)]


def panel_grid(n: int, *, cols: int | None = None, width: float = 4.2, height: float = 3.1, sharey: bool | str = True):
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


def figure_legend(fig: plt.Figure, spare: list, handles: list) -> None:
    """One legend per figure: in the first empty cell of the grid, right of a single panel, else
    below the panels."""
    if spare:
        spare[0].legend(handles=handles, loc="center", fontsize="small", frameon=False)
    elif len([ax for ax in fig.axes if ax.axison]) == 1:
        fig.legend(handles=handles, loc="outside right center", fontsize="small", frameon=False)
    else:
        ncols = max(1, min(len(handles), 4, int(fig.get_figwidth() // 2.6)))
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)


def drop_legends(axes) -> None:
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


def log_axis(axis, formatter, values=None) -> None:
    """A log axis labelled on the decades, or at 1, 2 and 5 times a decade when ``values`` span less
    than two decades; never on the minor ticks (their labels overprint)."""
    values = np.asarray(values if values is not None else [], dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    short = len(values) and np.log10(values.max() / values.min()) < 2
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if short else (1.0,)))
    axis.set_major_formatter(FuncFormatter(formatter))
    axis.set_minor_formatter(NullFormatter())


def covering_ticks(values) -> tuple[float, float]:
    """Log-axis limits just beyond a labelled tick at or below the smallest value and one at or above
    the largest (the ticks of :func:`log_axis`), so that no point sits beyond the first or last label."""
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
        log_axis(ax.yaxis, format_bytes, means[metric])
    else:
        sns.lineplot(data=windows, x="t_end", y=metric, **hue_keywords(windows), markersize=4, errorbar=CI,
                     legend=False, ax=ax)
    if onset is not None:
        mark_drift(ax, onset=onset, width=width)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel(LABELS.get(metric, metric))
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


def panel_figure(panels: list[tuple[str, pd.DataFrame]], draw, handles: list, *, cols: int | None = None,
            sharey: bool = True, title: str = "") -> plt.Figure:
    """One panel per (title, rows), drawn by ``draw(rows, ax)``, one legend, one y range."""
    fig, axes, spare = panel_grid(len(panels), cols=cols, sharey=sharey)
    for ax, (panel_title, rows) in zip(axes, panels):
        draw(rows, ax)
        ax.set_title(panel_title, fontsize="medium")
        ax.yaxis.set_tick_params(labelleft=True)
    drop_legends(axes)
    figure_legend(fig, spare, handles)
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: plt.Figure, stem: Path) -> list[Path]:
    """``stem``.png and .pdf, written atomically; the figure is closed. The layout (constrained,
    a third of a save) is computed once, for the PNG: its positions are fractions of the figure and
    text sizes are in points, so the PDF, drawn with the layout engine off, has the same layout."""
    written = [atomic_write(stem.with_suffix(".png"), lambda tmp: fig.savefig(tmp, dpi=130))]
    fig.set_layout_engine("none")
    # no creation date: the same figure is the same bytes, as the PNG is
    written.append(atomic_write(stem.with_suffix(".pdf"), lambda tmp: fig.savefig(tmp, dpi=130,
                                                                                  metadata={"CreationDate": None})))
    plt.close(fig)
    return written
