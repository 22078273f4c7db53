"""Every figure function draws from a small hand-made table and puts the expected marks on its axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import (
    to_hex,  # noqa: E402
    to_rgb,  # noqa: E402
)
from matplotlib.lines import Line2D  # noqa: E402

from harness.figures import palette, per_run, shared, study  # noqa: E402

STRATEGIES = ["frozen", "finetune", "river_logreg"]


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def data_lines(ax) -> list[Line2D]:
    """Lines that carry data (more than the two points of a reference line)."""
    return [line for line in ax.lines if len(line.get_xdata()) > 2]


def test_over_time_has_one_line_per_strategy_and_marks_the_drift(ax):
    windows = pd.DataFrame([{"strategy": s, "t_end": t, "accuracy": 0.5} for s in STRATEGIES for t in (100, 200, 300)])
    shared.plot_over_time(windows, metric="accuracy", ax=ax, onset=150, width=100)
    assert len(data_lines(ax)) == 3
    assert any(list(line.get_xdata()) == [150, 150] for line in ax.lines)  # the onset
    assert len(ax.patches) == 1  # the shaded width


def test_drift_induced_error_one_line_per_strategy_over_severities(ax):
    runs = pd.DataFrame([{"strategy": s, "phase": "all", "drift.severity": sev, "drift_induced_error": sev * i, "seed": seed}
                         for i, s in enumerate(STRATEGIES) for sev in (0, 0.5, 1) for seed in (0, 1)])  # fmt: skip
    study.plot_drift_induced_error(runs, ax=ax)
    lines = data_lines(ax)
    assert len(lines) == 3
    assert sorted(len(line.get_xdata()) for line in lines) == [3, 3, 3]


def test_boxes_one_per_strategy_and_severity(ax):
    rng = np.random.default_rng(0)
    runs = pd.DataFrame([{"strategy": s, "phase": "post", "drift.severity": sev, "accuracy": rng.random()}
                         for s in STRATEGIES for sev in (0, 1) for _ in range(5)])  # fmt: skip
    study.plot_metric_boxes(runs, metric="accuracy", ax=ax)
    boxes = [p for p in ax.patches if type(p).__name__ == "PathPatch"]  # legend keys are Rectangles
    assert len(boxes) == 6


def test_confidence_curve_one_line_per_strategy_and_phase(ax):
    taus = np.round(np.arange(0, 1, 0.1), 1)
    curves = pd.DataFrame([{"strategy": s, "phase": p, "tau": t, "accuracy": 0.5 + t / 2}
                           for s in STRATEGIES[:2] for p in ("pre", "post") for t in taus])  # fmt: skip
    study.plot_confidence_curve(curves, ax=ax)
    assert len(data_lines(ax)) == 4
    assert all(len(line.get_xdata()) == 10 for line in data_lines(ax))


def test_reliability_pools_runs_by_count(ax):
    bins = pd.DataFrame(
        [{"strategy": "frozen", "bin": 13, "confidence": 0.9, "accuracy": 1.0, "count": 3, "run": "a"},
         {"strategy": "frozen", "bin": 13, "confidence": 0.9, "accuracy": 0.0, "count": 1, "run": "b"},
         {"strategy": "frozen", "bin": 8, "confidence": 0.55, "accuracy": 0.5, "count": 2, "run": "a"},
         {"strategy": "frozen", "bin": 2, "confidence": 0.15, "accuracy": np.nan, "count": 0, "run": "a"},
         {"strategy": "frozen", "bin": 5, "confidence": 0.35, "accuracy": 0.5, "count": 2, "run": "a"}]
    )  # fmt: skip
    study.plot_reliability(bins, ax=ax)
    (line,) = data_lines(ax)
    # empty bin dropped; bin 13 pooled: (3 * 1 + 1 * 0) / 4 = 0.75
    assert np.allclose(line.get_xdata(), [0.35, 0.55, 0.9])
    assert np.allclose(line.get_ydata(), [0.5, 0.5, 0.75])


def test_cost_tradeoff_one_point_per_strategy_and_the_pareto_front(ax):
    points = pd.DataFrame({"strategy": STRATEGIES, "ms_per_1000": [1.0, 10.0, 100.0], "accuracy_post": [0.3, 0.6, 0.5]})
    study.plot_cost_tradeoff(points, ax=ax)
    markers = [c for c in ax.collections if len(c.get_offsets())]
    assert sum(len(c.get_offsets()) for c in markers) == 3
    assert {to_hex(c.get_facecolor()[0]) for c in markers} == {to_hex(palette.color(s)) for s in STRATEGIES}
    front = next(line for line in ax.lines if line.get_label() == "Pareto front")
    assert list(front.get_xdata()) == [1.0, 10.0]  # river_logreg is dominated by finetune


def test_pareto_front_by_hand():
    x = pd.Series([3.0, 1.0, 2.0, 4.0])
    y = pd.Series([0.9, 0.5, 0.4, 0.8])
    assert list(study.pareto_front(x, y)) == [1, 0]


def test_unknown_figure_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown figure 'pie'"):
        tables = {name: pd.DataFrame() for name in ("runs", "windows", "costs", "confidence", "reliability")}
        study.draw_figures(tables, tmp_path, conditions=[], names=["pie"])


@pytest.mark.parametrize("low, high", [(20.0, 80.0), (3.0, 3e4)])
def test_log_cost_axis_labels_do_not_overprint(ax, low, high):
    """Labelled ticks, at least two, none closer than 4% of the axis to the next (short and long ranges)."""
    points = pd.DataFrame({"strategy": STRATEGIES, "ms_per_1000": [low, (low * high) ** 0.5, high],
                           "accuracy_post": [0.3, 0.6, 0.5]})
    study.plot_cost_tradeoff(points, ax=ax)
    ax.figure.canvas.draw()
    lo, hi = np.log10(ax.get_xlim())
    labels = ax.get_xticklabels(minor=False) + ax.get_xticklabels(minor=True)
    at = [np.log10(t.get_position()[0]) for t in labels if t.get_text()]
    shown = sorted((x - lo) / (hi - lo) for x in at if lo <= x <= hi)
    assert len(shown) >= 2
    assert min(np.diff(shown)) > 0.04


def test_regret_one_line_per_strategy_in_its_colour_and_the_zero_line(ax):
    names = [*STRATEGIES, "oracle_switch"]
    windows = pd.DataFrame([{"strategy": s, "t_end": t, "regret": 0.0 if s == "oracle_switch" else 0.1 * i}
                            for i, s in enumerate(names) for t in (100, 200, 300)])
    per_run.plot_regret(windows, ax=ax, onset=150)
    lines = data_lines(ax)
    assert len(lines) == 4
    colors = shared.strategy_colors(names)
    assert {to_rgb(line.get_color()) for line in lines} == {to_rgb(c) for c in colors.values()}
    assert any(list(line.get_ydata()) == [0.0, 0.0] for line in ax.lines)  # the ceiling


def test_regret_of_a_run_without_oracle_switch_draws_no_line(ax):
    windows = pd.DataFrame([{"strategy": s, "t_end": t, "regret": np.nan} for s in STRATEGIES for t in (100, 200, 300)])
    per_run.plot_regret(windows, ax=ax)
    assert data_lines(ax) == []
