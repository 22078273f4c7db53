"""Figure defects a reviewer sends back, checked on the drawn matplotlib objects of hand-made tables:
whose box it is with two seeds, the rank axis and labels of the critical-difference diagram, ticks
that cover the cost axis, no drift onset in a panel that does not drift."""

import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from harness import palette, plots, report  # noqa: E402
from tests.test_figures import STRATEGIES, panels, sweep_tables  # noqa: E402


def test_narrow_boxes_of_two_seeds_show_their_strategy_colour_in_edges_and_medians():
    tables = sweep_tables(kinds=("concept",), severities=(0.5, 1.0), seeds=(0, 1))
    fig = plots.build_figure(tables, "severity_boxes", conditions=["drift.severity"])
    ax = panels(fig)[0]
    boxes = [c for c in ax.containers if hasattr(c, "medians")]
    names = palette.order(STRATEGIES)
    assert len(boxes) == len(names)
    for name, box in zip(names, boxes):
        colour = palette.color(name)
        assert {to_hex(line.get_color()) for line in box.medians} == {colour}  # not white
        assert {to_hex(patch.get_edgecolor()) for patch in box.boxes} == {colour}
    plt.close(fig)


def critical_difference(k: int):
    names = STRATEGIES[:k]
    ranks = pd.Series(np.linspace(1.9, k - 0.4, k), index=names)
    pvalues = pd.DataFrame(0.5, index=names, columns=names)
    return {"average_rank": ranks, "nemenyi": pvalues, "cd": 1.2, "friedman": {"n_conditions": 6, "p_value": 0.01}}


def test_critical_difference_axis_runs_from_1_to_k_and_every_label_is_inside_the_figure(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, stem: drawn.append(fig) or [])
    for k in (3, 5):
        report.draw_critical_difference(critical_difference(k), tmp_path / "cd")
        fig = drawn[-1]
        ax = fig.axes[0]
        assert sorted(ax.get_xlim()) == [1.0, float(k)]
        fig.canvas.draw()
        renderer, box = fig.canvas.get_renderer(), fig.bbox
        texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
        assert any("frozen" in t.get_text() for t in texts)
        for text in texts:
            extent = text.get_window_extent(renderer)
            assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()
            assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, text.get_text()
        plt.close(fig)


def test_cost_axis_has_a_labelled_tick_at_or_below_the_smallest_value_and_at_or_above_the_largest():
    points = pd.DataFrame({"strategy": ["frozen", "river_logreg", "finetune"], "ms_per_1000": [13.0, 40.0, 900.0],
                           "peak_model_bytes": [3e3, 4e4, 2e6], "accuracy_post": [0.4, 0.6, 0.7]})
    for x in ("ms_per_1000", "peak_model_bytes"):
        fig, ax = plt.subplots()
        plots.plot_cost_tradeoff(points, x=x, ax=ax)
        fig.canvas.draw()
        low, high = ax.get_xlim()
        ticks = [t for t in ax.xaxis.get_majorticklocs() if low <= t <= high]
        assert min(ticks) <= points[x].min() and max(ticks) >= points[x].max(), (x, ticks)
        assert low <= points[x].min() and points[x].max() <= high
        plt.close(fig)


def onset_lines(ax) -> list:
    return [line for line in ax.lines if line.get_label() == "drift onset"]


def test_a_panel_whose_runs_do_not_drift_draws_no_onset_line_or_band():
    tables = sweep_tables(kinds=("concept",), severities=(0.0, 1.0), seeds=(0, 1))
    fig = plots.build_figure(tables, "accuracy_over_time", conditions=["drift.severity"])
    shown = {ax.get_title(): ax for ax in panels(fig)}
    calm = [ax for title, ax in shown.items() if title == "severity 0"]
    drifting = [ax for title, ax in shown.items() if title == "severity 1"]
    assert len(calm) == 1 and len(drifting) == 1, list(shown)
    assert onset_lines(calm[0]) == [] and not calm[0].patches
    assert len(onset_lines(drifting[0])) == 1
    plt.close(fig)
