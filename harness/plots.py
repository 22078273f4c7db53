"""Figures drawn from results tables (never from models). Seaborn lives here only."""

from __future__ import annotations

import json
import warnings
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from harness.results import atomic_write  # noqa: E402

CI = ("ci", 95)  # mean and 95% bootstrap interval over seeds (seeded, so figures are reproducible)
LABELS = {
    "accuracy": "accuracy (windowed)",
    "confident_error_rate": "confident-error rate (windowed)",
    "ece": "ECE (windowed)",
    "mean_confidence": "mean confidence (windowed)",
    "model_bytes": "model memory (bytes)",
    "regret": "regret (oracle_switch acc. - acc.)",
}


def strategy_colors(strategies) -> dict:
    """The same colour for a strategy in every figure: colour-blind palette over the sorted names."""
    names = sorted(set(strategies))
    return dict(zip(names, sns.color_palette("colorblind", len(names))))


def _hue(frame: pd.DataFrame) -> dict:
    colors = strategy_colors(frame["strategy"])
    return {"hue": "strategy", "hue_order": list(colors), "palette": colors}


def mark_drift(ax: plt.Axes, *, onset: int, width: int) -> plt.Axes:
    """A dashed line at the drift onset and a shaded band over its width."""
    ax.axvline(onset, color="0.3", linestyle="--", linewidth=1, label="_drift onset")
    if width > 0:
        ax.axvspan(onset, onset + width, color="0.85", zorder=0)
    return ax


def plot_over_time(
    windows: pd.DataFrame, *, metric: str, ax: plt.Axes | None = None, onset: int | None = None, width: int = 0
) -> plt.Axes:
    """``metric`` per window against deployment time, one line per strategy: the mean over the runs
    in ``windows`` with its 95% CI (model memory: the mean only, since seeds choose different widths)."""
    ax = ax or plt.gca()
    errorbar = None if metric == "model_bytes" else CI
    sns.lineplot(data=windows, x="t_end", y=metric, **_hue(windows), marker="o", markersize=4,
                 errorbar=errorbar, seed=0, ax=ax)  # fmt: skip
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


def plot_run(run_dir: Path) -> Path:
    """``figure.png`` of a run: windowed accuracy and confident-error rate over deployment time, and
    the regret when the run has ``oracle_switch``."""
    run_dir = Path(run_dir)
    windows = pd.read_csv(run_dir / "windows.csv")
    stream = json.loads((run_dir / "stream.json").read_text())
    schedule = stream["schedule"]
    metrics = ["accuracy", "confident_error_rate"]
    if "regret" in windows and windows["regret"].notna().any():
        metrics.append("regret")
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7, 2.75 * len(metrics)), sharex=True)
    for ax, metric in zip(axes, metrics):
        draw = plot_regret if metric == "regret" else partial(plot_over_time, metric=metric)
        draw(windows, ax=ax, onset=schedule["onset"], width=schedule["width"])
    for ax in axes[1:]:
        ax.get_legend().remove()
    axes[0].legend(title="strategy", fontsize="small", ncols=2)
    axes[0].set_title(
        f"{stream['family']} stream, {schedule['kind']} drift ({schedule['pattern']}, "
        f"severity {schedule['severity']:g})"
    )
    fig.tight_layout()
    path = atomic_write(run_dir / "figure.png", lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)
    return path


# -- figures of a sweep, drawn from the tables harness.report aggregates ---------------------------


def plot_drift_induced_error(runs: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Drift-induced error (post minus pre error) against severity, one line per strategy."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == "all"]
    sns.lineplot(data=rows, x="drift.severity", y="drift_induced_error", **_hue(rows), marker="o",
                 errorbar=CI, seed=0, ax=ax)  # fmt: skip
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("drift severity")
    ax.set_ylabel("drift-induced error (post - pre)")
    return ax


def plot_metric_boxes(runs: pd.DataFrame, *, metric: str = "accuracy", phase: str = "post",
                      ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Ovadia-style boxes: ``metric`` in ``phase`` per severity level, one box per strategy."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == phase]
    with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib a deprecated argument
        warnings.simplefilter("ignore", DeprecationWarning)
        sns.boxplot(data=rows, x="drift.severity", y=metric, **_hue(rows), ax=ax, fliersize=2)
    ax.set_xlabel("drift severity")
    ax.set_ylabel(f"{metric} ({phase}-drift)")
    return ax


def plot_confidence_curve(confidence: pd.DataFrame, *, value: str = "accuracy",
                          ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Accuracy (or share) of the predictions made with confidence >= tau, against tau; one colour
    per strategy, solid before the drift and dashed after it (Ovadia et al. 2019)."""
    ax = ax or plt.gca()
    sns.lineplot(data=confidence, x="tau", y=value, **_hue(confidence), style="phase", style_order=["pre", "post"],
                 marker="o", errorbar=CI, seed=0, ax=ax)  # fmt: skip
    ax.set_xlabel(r"confidence threshold $\tau$")
    ax.set_ylabel({"accuracy": r"accuracy on predictions with confidence $\geq \tau$",
                   "share": r"share of predictions with confidence $\geq \tau$"}.get(value, value))  # fmt: skip
    return ax


def plot_reliability(reliability: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Reliability diagram: accuracy against mean confidence per bin (pooled over runs), one line per
    strategy; the diagonal is perfect calibration."""
    ax = ax or plt.gca()
    pooled = (
        reliability.assign(hits=reliability.accuracy * reliability["count"],
                           conf=reliability.confidence * reliability["count"])
        .groupby(["strategy", "bin"], as_index=False)[["hits", "conf", "count"]].sum()
        .query("count > 0")
    )  # fmt: skip
    pooled = pooled.assign(accuracy=pooled.hits / pooled["count"], confidence=pooled.conf / pooled["count"])
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
    sns.lineplot(data=pooled, x="confidence", y="accuracy", **_hue(pooled), marker="o", errorbar=None, ax=ax)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (bin mean)")
    ax.set_ylabel("accuracy")
    return ax


def plot_post_accuracy(runs: pd.DataFrame, *, x: str, ax: plt.Axes | None = None) -> plt.Axes:
    """Post-drift accuracy against the config column ``x``, one line per strategy."""
    ax = ax or plt.gca()
    rows = runs[runs.phase == "post"]
    sns.lineplot(data=rows, x=x, y="accuracy", **_hue(rows), marker="o", errorbar=CI, seed=0, ax=ax)
    ax.set_xlabel(x)
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


def plot_cost_tradeoff(points: pd.DataFrame, *, x: str = "ms_per_1000", y: str = "accuracy_post",
                       ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """One point per strategy (mean over runs): cost against post-drift accuracy, the Pareto front drawn."""
    ax = ax or plt.gca()
    means = points.groupby("strategy", as_index=False)[[x, y]].mean()
    sns.scatterplot(data=means, x=x, y=y, **_hue(means), s=60, ax=ax)
    front = means.loc[pareto_front(means[x], means[y])].sort_values(x)
    ax.plot(front[x], front[y], color="0.3", linestyle="--", linewidth=1, label="Pareto front")
    ax.legend(fontsize="small")
    ax.set_xscale("log")
    ax.set_xlabel({"ms_per_1000": "compute time per 1,000 samples (ms, log)",
                   "peak_model_bytes": "peak model memory (bytes, log)"}.get(x, x))  # fmt: skip
    ax.set_ylabel("post-drift accuracy")
    return ax


def _panels(frame: pd.DataFrame, conditions: list[str], limit: int = 8) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) per combination of the condition columns, at most ``limit`` panels."""
    if not conditions:
        return [("", frame)]
    groups = list(frame.groupby(conditions, sort=True))[:limit]
    return [(", ".join(f"{c}={v}" for c, v in zip(conditions, key if isinstance(key, tuple) else (key,))), rows)
            for key, rows in groups]  # fmt: skip


def _grid(n: int, *, width: float = 4.6, height: float = 3.4):
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _over_time_figure(windows: pd.DataFrame, conditions: list[str], metric: str) -> plt.Figure:
    panels = _panels(windows, conditions)
    fig, axes = _grid(len(panels))
    for ax, (title, rows) in zip(axes, panels):
        plot_over_time(rows, metric=metric, ax=ax, onset=int(rows["schedule.onset"].iloc[0]),
                       width=int(rows["schedule.width"].iloc[0]))  # fmt: skip
        ax.set_title(title, fontsize="small")
        if metric == "model_bytes":
            ax.set_yscale("log")
    return fig


def cost_points(runs: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Per run and strategy: compute time per 1,000 deployment samples, peak memory, post-drift accuracy."""
    n = runs[runs.phase == "all"][["run", "strategy", "n"]]
    post = runs[runs.phase == "post"][["run", "strategy", "accuracy"]].rename(columns={"accuracy": "accuracy_post"})
    points = costs.merge(n, on=["run", "strategy"]).merge(post, on=["run", "strategy"])
    return points.assign(ms_per_1000=(points.predict_s + points.learn_s) / points.n * 1e6)


def _varies(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].nunique() > 1


def draw_figures(tables: dict[str, pd.DataFrame], out: Path, *, conditions: list[str],
                 names: list[str] | None = None) -> list[Path]:  # fmt: skip
    """Draw the named figures (default: every one the tables support) as PNG and PDF into ``out``.

    ``conditions`` are the config columns that vary across runs (seed excluded): figures over time
    get one panel per condition, figures against severity or label delay one per other condition.
    """
    sns.set_theme(style="whitegrid", context="paper")
    runs, windows = tables["runs"], tables["windows"]

    def panels(facets: list[str], draw) -> plt.Figure:
        found = _panels(runs, facets)
        fig, axes = _grid(len(found))
        for ax, (title, rows) in zip(axes, found):
            draw(rows, ax)
            ax.set_title(title, fontsize="small")
        return fig

    def two(draw_left, draw_right) -> plt.Figure:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        draw_left(axes[0])
        draw_right(axes[1])
        return fig

    def others(*columns: str) -> list[str]:
        return [c for c in conditions if c not in columns]

    confidence, reliability = tables["confidence"], tables["reliability"]
    builders = {
        "accuracy_over_time": lambda: _over_time_figure(windows, conditions, "accuracy"),
        "confident_errors_over_time": lambda: _over_time_figure(windows, conditions, "confident_error_rate"),
        "memory_over_time": lambda: _over_time_figure(windows, conditions, "model_bytes"),
        "drift_induced_error": lambda: panels(
            others("drift.severity"), lambda rows, ax: plot_drift_induced_error(rows, ax=ax)),
        "label_budget": lambda: panels(
            others("replay.label_delay"), lambda rows, ax: plot_post_accuracy(rows, x="replay.label_delay", ax=ax)),
        "severity_boxes": lambda: two(lambda ax: plot_metric_boxes(runs, metric="accuracy", ax=ax),
                                      lambda ax: plot_metric_boxes(runs, metric="ece", ax=ax)),
        "confidence_curves": lambda: two(lambda ax: plot_confidence_curve(confidence, ax=ax),
                                         lambda ax: plot_confidence_curve(confidence, value="share", ax=ax)),
        "reliability": lambda: two(
            lambda ax: plot_reliability(reliability.query("phase == 'pre'"), ax=ax).set_title("before the drift"),
            lambda ax: plot_reliability(reliability.query("phase == 'post'"), ax=ax).set_title("after the drift"),
        ),
        "cost_tradeoff": lambda: two(
            lambda ax: plot_cost_tradeoff(cost_points(runs, tables["costs"]), ax=ax),
            lambda ax: plot_cost_tradeoff(cost_points(runs, tables["costs"]), x="peak_model_bytes", ax=ax),
        ),
    }  # fmt: skip
    needs = {"drift_induced_error": "drift.severity", "severity_boxes": "drift.severity",
             "label_budget": "replay.label_delay"}  # fmt: skip
    if names is None:
        names = [n for n in builders if n not in needs or _varies(runs, needs[n])]
    unknown = sorted(set(names) - set(builders))
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; available: {sorted(builders)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        fig = builders[name]()
        fig.tight_layout()
        for suffix in (".png", ".pdf"):
            written.append(atomic_write(out / f"{name}{suffix}", lambda tmp: fig.savefig(tmp, dpi=130)))
        plt.close(fig)
    return written


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
