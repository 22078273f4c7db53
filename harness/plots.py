"""Figures drawn from results tables (never from models). Seaborn lives here only."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from harness.results import atomic_write  # noqa: E402

LABELS = {
    "accuracy": "accuracy (windowed)",
    "confident_error_rate": "confident-error rate (windowed)",
    "ece": "ECE (windowed)",
    "mean_confidence": "mean confidence (windowed)",
    "model_bytes": "model memory (bytes)",
}


def mark_drift(ax: plt.Axes, *, onset: int, width: int) -> plt.Axes:
    """A dashed line at the drift onset and a shaded band over its width."""
    ax.axvline(onset, color="0.3", linestyle="--", linewidth=1, label="_drift onset")
    if width > 0:
        ax.axvspan(onset, onset + width, color="0.85", zorder=0)
    return ax


def plot_over_time(
    windows: pd.DataFrame, *, metric: str, ax: plt.Axes | None = None, onset: int | None = None, width: int = 0
) -> plt.Axes:
    """``metric`` per window against deployment time, one line per strategy (mean and 95% CI
    over seeds when ``windows`` holds several runs)."""
    ax = ax or plt.gca()
    sns.lineplot(data=windows, x="t_end", y=metric, hue="strategy", marker="o", markersize=4, ax=ax)
    if onset is not None:
        mark_drift(ax, onset=onset, width=width)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel(LABELS.get(metric, metric))
    return ax


def plot_run(run_dir: Path) -> Path:
    """``figure.png`` of a run: windowed accuracy and confident-error rate over deployment time."""
    run_dir = Path(run_dir)
    windows = pd.read_csv(run_dir / "windows.csv")
    stream = json.loads((run_dir / "stream.json").read_text())
    schedule = stream["schedule"]
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    for ax, metric in zip(axes, ("accuracy", "confident_error_rate")):
        plot_over_time(windows, metric=metric, ax=ax, onset=schedule["onset"], width=schedule["width"])
    axes[1].get_legend().remove()
    axes[0].legend(title="strategy", fontsize="small", ncols=2)
    axes[0].set_title(
        f"{stream['family']} stream, {schedule['kind']} drift ({schedule['pattern']}, "
        f"severity {schedule['severity']:g})"
    )
    fig.tight_layout()
    path = atomic_write(run_dir / "figure.png", lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)
    return path
