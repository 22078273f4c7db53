"""The figure of one run (``figure.png``): windowed accuracy against its reference line,
confident-error rate and regret, drawn from the run's ``windows.csv`` and ``stream.json`` only."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from harness.figures import palette  # noqa: E402
from harness.figures.shared import LABELS, drift_title, legend_handles, plot_over_time  # noqa: E402
from harness.results.store import atomic_write  # noqa: E402


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
