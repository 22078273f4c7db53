"""The stream view of a run (``stream.png``): what the stream changes before any model is looked
at, drawn from ``stream_points.csv``, ``stream_timeline.csv`` and ``stream_progress.csv``
(:mod:`harness.streams.view` writes them). Classes have their own colours, never a strategy's."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from harness.figures import palette  # noqa: E402
from harness.figures.shared import drift_title, legend_handles, mark_drift  # noqa: E402
from harness.results.store import atomic_write  # noqa: E402


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
    labelling rule (for a token stream: the share of out-of-vocabulary tokens), from ``stream_points.csv``,
    ``stream_timeline.csv`` and ``stream_progress.csv``."""
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
