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


def plot_stream_points(points: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Samples on their first two principal components, coloured by class; novel ones as crosses.
    ``points`` holds ``pc_0``, ``pc_1``, ``y`` and ``novel`` (one part of ``stream_points.csv``)."""
    ax = ax or plt.gca()
    points = points.assign(sample=points["novel"].map({True: "novel", False: "known"}))
    style = {"style": "sample", "style_order": ["known", "novel"]} if points["novel"].any() else {}
    sns.scatterplot(data=points, x="pc_0", y="pc_1", hue="y", palette="deep", s=8, alpha=0.6, linewidth=0, ax=ax,
                    **style)  # fmt: skip
    ax.set_xlabel("principal component 1 (offline)")
    ax.set_ylabel("principal component 2 (offline)")
    return ax


def plot_class_priors(timeline: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Class shares per window and the mean ``drift_progress`` (dashed, black) against deployment time;
    ``timeline`` is ``stream_timeline.csv``."""
    ax = ax or plt.gca()
    sns.lineplot(data=timeline, x="t_end", y="prior", hue="class", palette="deep", ax=ax)
    progress = timeline.drop_duplicates("t_end")
    ax.plot(progress["t_end"], progress["drift_progress"], color="black", linestyle="--", label="drift_progress")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel("class share / drift progress")
    ax.legend(fontsize="small", ncols=2)
    return ax


def plot_stream(run_dir: Path) -> Path:
    """``stream.png`` of a run: offline vs deployment samples (after the onset) and the class priors
    with ``drift_progress`` over time, from ``stream_points.csv`` and ``stream_timeline.csv``."""
    run_dir = Path(run_dir)
    points = pd.read_csv(run_dir / "stream_points.csv")
    timeline = pd.read_csv(run_dir / "stream_timeline.csv")
    stream = json.loads((run_dir / "stream.json").read_text())
    schedule = stream["schedule"]
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    limits = points[["pc_0", "pc_1"]].quantile([0.0, 1.0])
    for ax, part in zip(axes[:2], ("offline", "deployment")):
        plot_stream_points(points[points["part"] == part], ax=ax)
        ax.set_xlim(*limits["pc_0"])
        ax.set_ylim(*limits["pc_1"])
        ax.set_title(part if part == "offline" else f"deployment, t >= onset ({schedule['onset']})")
    plot_class_priors(timeline, ax=axes[2])
    mark_drift(axes[2], onset=schedule["onset"], width=schedule["width"])
    axes[2].set_title("class priors and drift progress")
    fig.suptitle(f"{stream['family']} stream, {schedule['kind']} drift ({schedule['pattern']}, "
                 f"severity {schedule['severity']:g})")  # fmt: skip
    fig.tight_layout()
    path = atomic_write(run_dir / "stream.png", lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return path
