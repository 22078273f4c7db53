"""Figure defects a reviewer sends back, checked on the drawn matplotlib objects of hand-made tables:
whose box it is with two seeds, the rank axis and labels of the critical-difference diagram, ticks
that cover the cost axis, no drift onset in a panel that does not drift."""

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from harness.figures import palette, stream_view, study  # noqa: E402
from harness.results import report  # noqa: E402
from tests.test_figures import STRATEGIES, panels, sweep_tables  # noqa: E402


def test_narrow_boxes_of_two_seeds_show_their_strategy_colour_in_edges_and_medians():
    tables = sweep_tables(kinds=("concept",), severities=(0.5, 1.0), seeds=(0, 1))
    fig = study.build_figure(tables, "severity_boxes", conditions=["drift.severity"])
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


def test_critical_difference_axis_runs_from_1_to_k_and_every_label_is_inside_the_figure():
    for k in (3, 5):
        fig = report.critical_difference_figure(critical_difference(k))
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
        study.plot_cost_tradeoff(points, x=x, ax=ax)
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
    fig = study.build_figure(tables, "accuracy_over_time", conditions=["drift.severity"])
    shown = {ax.get_title(): ax for ax in panels(fig)}
    calm = [ax for title, ax in shown.items() if title == "severity 0"]
    drifting = [ax for title, ax in shown.items() if title == "severity 1"]
    assert len(calm) == 1 and len(drifting) == 1, list(shown)
    assert onset_lines(calm[0]) == [] and not calm[0].patches
    assert len(onset_lines(drifting[0])) == 1
    plt.close(fig)


def stream_run(tmp_path: Path, *, onset, oov=None, kind="concept") -> Path:
    """A run directory with the stream tables ``plot_stream`` reads, made by hand: the deployment
    cloud, after the onset a small part of the samples, lies far right of the offline one."""
    rng = np.random.default_rng(0)
    offline = pd.DataFrame({"pc_0": rng.normal(0, 1, 20000), "pc_1": rng.normal(0, 1, 20000), "part": "offline"})
    deploy = pd.DataFrame({"pc_0": rng.normal(8, 1, 200), "pc_1": rng.normal(0, 1, 200), "part": "deployment"})
    points = pd.concat([offline, deploy]).assign(y=lambda f: np.arange(len(f)) % 2, novel=False)
    points.to_csv(tmp_path / "stream_points.csv", index=False)
    timeline = pd.DataFrame([{"t_end": t, "class": k, "prior": 0.5, "drift_progress": np.nan if onset is None else 1.0,
                              "nn_agreement": 0.9, **({} if oov is None else {"oov_share": oov if np.isscalar(oov) else oov[t]})}
                             for t in (100, 200, 300) for k in (0, 1)])
    timeline.to_csv(tmp_path / "stream_timeline.csv", index=False)
    schedule = ({"kind": "natural", "pattern": "unknown", "change_points": [], "onset": None, "width": 0}
                if onset is None else {"kind": kind, "pattern": "sudden", "severity": 1.0, "onset": onset, "width": 0})
    (tmp_path / "stream.json").write_text(json.dumps({"family": "prompts" if oov is not None else "weather",
                                                      "schedule": schedule}))
    return tmp_path


def drawn_stream(run_dir: Path, monkeypatch) -> plt.Figure:
    figures = []
    monkeypatch.setattr(stream_view.plt, "close", lambda fig=None: figures.append(fig))
    stream_view.plot_stream(run_dir)
    return figures[-1]


def test_stream_png_on_real_data_names_no_curve_it_does_not_draw_and_shows_the_whole_deployment(tmp_path, monkeypatch):
    fig = drawn_stream(stream_run(tmp_path, onset=None), monkeypatch)
    assert (tmp_path / "stream.png").stat().st_size > 10_000
    priors = [ax for ax in fig.axes if ax.get_title().startswith("class shares")][0]
    assert "drift progress" not in priors.get_title()
    deployment = [ax for ax in fig.axes if ax.get_title().startswith("deployment")][0]
    low, high = deployment.get_xlim()
    points = pd.read_csv(tmp_path / "stream_points.csv")
    shown = points[(points.part == "deployment") & points.pc_0.between(low, high)]
    assert len(shown) >= 0.98 * (points.part == "deployment").sum()


def test_stream_png_says_when_the_vocabulary_did_not_change(tmp_path, monkeypatch):
    fig = drawn_stream(stream_run(tmp_path, onset=150, oov=0.02), monkeypatch)
    vocabulary = [ax for ax in fig.axes if ax.get_title().startswith("vocabulary overlap")][0]
    assert "the vocabulary did not change" in [t.get_text() for t in vocabulary.texts]
    (tmp_path / "b").mkdir()
    rising = stream_run(tmp_path / "b", onset=150, oov={100: 0.0, 200: 0.3, 300: 0.6}, kind="covariate")
    fig = drawn_stream(rising, monkeypatch)
    vocabulary = [ax for ax in fig.axes if ax.get_title().startswith("vocabulary overlap")][0]
    assert "the vocabulary did not change" not in [t.get_text() for t in vocabulary.texts]
