"""Figures of label-free monitoring, drawn from the tables gathered by
:mod:`harness.results.monitoring` (never from models)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from harness.figures.shared import CI, mark_drift  # noqa: E402
from harness.results.store import atomic_write  # noqa: E402


def plot_estimates_over_time(estimates: pd.DataFrame, *, onset: int | None = None,
                             ax: plt.Axes | None = None) -> plt.Axes:
    """Estimated accuracy of each estimator and the realised accuracy, per window end, as means over
    the runs in ``estimates`` with 95% intervals; the drift onset dashed."""
    ax = ax or plt.gca()
    realised = estimates.drop_duplicates(["run", "strategy", "t_end"]).assign(estimator="realised")
    long = pd.concat([estimates.rename(columns={"estimated_accuracy": "accuracy"}),
                      realised.rename(columns={"realised_accuracy": "accuracy"})], ignore_index=True)
    order = [*sorted(estimates.estimator.unique()), "realised"]
    palette = dict(zip(order, [*sns.color_palette("colorblind", len(order) - 1), (0, 0, 0)]))
    sns.lineplot(data=long, x="t_end", y="accuracy", hue="estimator", hue_order=order, palette=palette,
                 style="estimator", dashes={name: (1, 0) if name == "realised" else (3, 2) for name in order},
                 errorbar=CI, ax=ax)
    if onset is not None:
        mark_drift(ax, onset=onset, width=0)
    ax.set_xlabel("deployment time (samples)")
    ax.set_ylabel("accuracy of the frozen model")
    return ax


def plot_detection_delay(detectors: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Mean detection delay (samples after onset) per detector and drift kind; runs whose drift was
    missed have no delay and are counted in :func:`plot_detection_rate`."""
    ax = ax or plt.gca()
    sns.barplot(data=detectors, x="kind", y="mean_detection_delay", hue="detector", errorbar=CI,
                palette="colorblind", ax=ax)
    ax.set_ylabel("detection delay (samples)")
    return ax


def plot_detection_rate(detectors: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Share of runs in which each detector caught the drift, per drift kind."""
    ax = ax or plt.gca()
    caught = detectors.assign(detected=detectors.missed_drifts == 0)
    sns.barplot(data=caught, x="kind", y="detected", hue="detector", errorbar=None, palette="colorblind", ax=ax)
    ax.set_ylabel("share of runs with the drift detected")
    ax.set_ylim(0, 1.05)
    return ax


def plot_power(detectors: pd.DataFrame, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Mean ``power`` (share of alarming windows wholly after the onset) per detector and drift kind,
    over the drifting runs in ``detectors``; a run without known drift has no power and no bar."""
    ax = ax or plt.gca()
    sns.barplot(data=detectors.dropna(subset=["power"]), x="kind", y="power", hue="detector", errorbar=CI, seed=0,
                palette="colorblind", ax=ax)
    ax.set_ylabel("power (share of post-onset windows alarming)")
    ax.set_ylim(0, 1.05)
    return ax


def plot_risk_coverage(risk: pd.DataFrame, *, value: str = "error_rate", ax: plt.Axes | None = None) -> plt.Axes:
    """``value`` among the answered samples against coverage, one line per score."""
    ax = ax or plt.gca()
    order = sorted(risk.score.unique())
    palette = dict(zip(order, sns.color_palette("colorblind", len(order))))
    sns.lineplot(data=risk, x="coverage", y=value, hue="score", hue_order=order, palette=palette, marker="o",
                 errorbar=CI, ax=ax)
    ax.set_ylabel(value.replace("_", " ") + " (answered samples)")
    return ax


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return path


def draw_monitoring(tables: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    """The study's three figures: estimates over time (one panel per kind, largest severity),
    detection delay and rate per detector and kind and the label-free detectors' power (drifting
    runs only), risk-coverage after the drift (error and confident-error rate, one column per kind,
    largest severity)."""
    written = []
    estimates, risk, detectors = tables["estimates"], tables["risk_coverage"], tables["detectors"]
    top = estimates.severity.max()
    kinds = sorted(estimates[estimates.severity == top].kind.unique())  # a kind run at lower severities only: none

    fig, axes = plt.subplots(1, len(kinds), figsize=(4.6 * len(kinds), 3.6), sharey=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        rows = estimates[(estimates.kind == kind) & (estimates.severity == top)]
        plot_estimates_over_time(rows, onset=int(rows.onset.iloc[0]), ax=ax)
        ax.set_title(f"{kind}, severity {top:g}")
    written.append(_save(fig, out / "monitoring_estimates.png"))

    drifting = detectors[detectors.severity > 0]
    if not drifting.empty:
        fig, axes = plt.subplots(1, 3, figsize=(17, 4))
        plot_detection_delay(drifting[drifting.severity == drifting.severity.max()], ax=axes[0])
        axes[0].set_title(f"delay, severity {drifting.severity.max():g}")
        plot_detection_rate(drifting, ax=axes[1])
        axes[1].set_title("detected, all severities > 0")
        axes[1].get_legend().remove()
        # the label-free detectors' windows after a known onset; River's detectors have no windows
        has_power = drifting["power"].notna() if "power" in drifting else pd.Series(False, index=drifting.index)
        label_free = drifting[has_power]
        if label_free.empty:
            axes[2].set_visible(False)
        else:
            top = label_free.severity.max()
            plot_power(label_free[label_free.severity == top], ax=axes[2])
            axes[2].set_title(f"power, severity {top:g}")
        written.append(_save(fig, out / "monitoring_detection.png"))

    post = risk[(risk.phase == "post") & (risk.severity == top)]
    fig, axes = plt.subplots(2, len(kinds), figsize=(4.6 * len(kinds), 7.0), squeeze=False)
    for column, kind in enumerate(kinds):
        for row, value in enumerate(("error_rate", "confident_error_rate")):
            plot_risk_coverage(post[post.kind == kind], value=value, ax=axes[row, column])
            axes[row, column].set_title(f"{kind}, severity {top:g}, after the drift")
    written.append(_save(fig, out / "monitoring_risk_coverage.png"))
    return written
