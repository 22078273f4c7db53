"""Figure-level checks a reviewer would otherwise make by eye: one colour per strategy across the
figures of a sweep, every condition a panel, labelled axes, a legend entry for every mark."""

import matplotlib

matplotlib.use("Agg")

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from harness.figures import palette, shared, study  # noqa: E402
from tests.helpers import strategy_tags  # noqa: E402

CONF = Path(__file__).resolve().parents[1] / "conf"
STRATEGIES = ["frozen", "frozen_ensemble", "finetune", "river_logreg", "river_hat"]


def sweep_tables(kinds=("concept", "covariate", "label"), severities=(0.5, 1.0), seeds=(0, 1), strategies=STRATEGIES,
                 width=100):
    """Tables shaped like harness.results.report's, made by hand: kinds x severities x seeds runs."""
    rng = np.random.default_rng(0)
    runs, windows, costs, confidence, reliability = [], [], [], [], []
    for kind in kinds:
        for severity in severities:
            for seed in seeds:
                run = f"{kind}-{severity}-{seed}"
                common = {"run": run, "drift.kind": kind, "drift.severity": severity, "seed": seed,
                          "schedule.onset": 300, "schedule.width": width}
                for s in strategies:
                    for phase in ("pre", "post", "all"):
                        runs.append({**common, "strategy": s, "phase": phase, "accuracy": rng.random(),
                                     "ece": rng.random(),
                                     "drift_induced_error": rng.random(), "n": 900})
                    for t in range(100, 1000, 100):
                        windows.append({**common, "strategy": s, "t_end": t, "accuracy": rng.random(),
                                        "confident_error_rate": rng.random(), "model_bytes": 1000.0 * (1 + len(s))})
                    costs.append({"run": run, "strategy": s, "predict_s": 0.01, "learn_s": rng.random(),
                                  "peak_model_bytes": 5e4 * (1 + len(s))})
                    for phase in ("pre", "post"):
                        for tau in np.round(np.arange(0, 1, 0.1), 1):
                            confidence.append({**common, "strategy": s, "phase": phase, "tau": tau,
                                               "accuracy": rng.random(), "share": 1 - tau, "count": 10})
                        for b in range(5):
                            reliability.append({**common, "strategy": s, "phase": phase, "bin": b,
                                                "confidence": 0.2 * b + 0.1, "accuracy": rng.random(), "count": 5})
    frames = [pd.DataFrame(rows) for rows in (runs, windows, costs, confidence, reliability)]
    return dict(zip(("runs", "windows", "costs", "confidence", "reliability"), frames))


def panels(fig) -> list:
    """Axes that show data (the legend's cell and hidden cells excluded)."""
    return [ax for ax in fig.axes if ax.axison]


def legend_texts(fig) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def legend_colours(fig) -> dict:
    """Strategy -> colour of its legend key."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    keys = [(text.get_text(), handle) for legend in legends
            for handle, text in zip(legend.legend_handles, legend.get_texts())]
    return {name: to_hex(handle.get_color()) for name, handle in keys if name in palette.STRATEGY_COLORS}


def data_colours(fig) -> set:
    """Colours of the lines and markers that carry data (reference lines are grey or black dashes)."""
    colours = set()
    for ax in panels(fig):
        colours |= {to_hex(line.get_color()) for line in ax.lines if len(line.get_xdata()) > 2}
        colours |= {to_hex(patch.get_facecolor()) for patch in ax.patches}
        for collection in ax.collections:
            if len(collection.get_offsets()):
                colours |= {to_hex(c) for c in collection.get_facecolors()}
    return colours


def test_every_strategy_in_conf_has_its_own_hue_and_classes_never_reuse_them():
    names = sorted(path.stem for path in (CONF / "strategy").glob("*.yaml"))
    assert len(names) == 21
    assert set(names) <= set(palette.STRATEGY_COLORS)
    colours = [to_hex(palette.color(n)) for n in names]
    assert len(set(colours)) == len(names)
    assert not set(map(to_hex, palette.CLASS_COLORS)) & set(colours)
    declare_families(names)
    assert {palette.family(n) for n in names} == {"static", "river", "continuous"}


def test_an_unknown_strategy_gets_the_same_new_colour_every_time():
    first, again = palette.color("my_new_learner"), palette.color("my_new_learner")
    assert first == again
    assert to_hex(first) not in {to_hex(c) for c in palette.STRATEGY_COLORS.values()}
    assert palette.family("my_new_learner") == "other"


def declare_families(names) -> None:
    """What a results table tells the palette: each strategy's family, as its class declares it."""
    palette.read_families(pd.DataFrame({"strategy": names, "family": [strategy_tags(n).family for n in names]}))


def test_the_family_comes_from_the_results_not_the_name():
    palette.read_families(pd.DataFrame({"strategy": ["frozen_like", "river_like"], "family": ["river", "nonsense"]}))
    assert (palette.family("frozen_like"), palette.family("river_like")) == ("river", "other")
    palette.read_families(pd.DataFrame({"strategy": ["old_results"]}))  # written before the column: nothing read
    assert palette.family("old_results") == "other"


def test_families_differ_in_line_style_and_marker():
    declare_families(["frozen", "river_logreg", "finetune"])
    styles = {(str(palette.linestyle(n)), palette.marker(n)) for n in ("frozen", "river_logreg", "finetune")}
    assert len(styles) == 3


# pipeline_detection has a bar per monitor, not a line per strategy: tests/test_pipeline_plots.py
@pytest.mark.parametrize("name", [name for name in study.FIGURES if name != "pipeline_detection"])
def test_every_figure_has_labelled_axes_and_a_legend_entry_per_strategy(name):
    tables = sweep_tables(kinds=("concept", "label"), severities=(0.0, 1.0), strategies=STRATEGIES[:4])
    conditions = ["drift.kind", "drift.severity"]
    if name == "pipeline_faults":
        faults = {"concept": "scale", "label": "missing"}
        tables = {k: v.assign(**{"drift.fault": v["drift.kind"].map(faults)}) if "drift.kind" in v else v
                  for k, v in tables.items()}
        tables["runs"] = tables["runs"].assign(confident_error_rate=tables["runs"].accuracy / 2)
    if name == "label_budget":
        tables = {k: pd.concat([v.assign(**{"replay.label_delay": d}) for d in (0, 300)]) for k, v in tables.items()}
        conditions = ["drift.kind", "replay.label_delay"]
    fig = study.build_figure(tables, name, conditions=conditions)
    try:
        for ax in panels(fig):
            assert ax.get_xlabel() and ax.get_ylabel(), (name, ax.get_title())
        texts = legend_texts(fig)
        assert set(STRATEGIES[:4]) <= set(texts), (name, texts)
        n_legends = len(fig.legends) + sum(ax.get_legend() is not None for ax in fig.axes)
        assert n_legends == 1  # one legend for the figure, not one per panel
        assert data_colours(fig) >= {to_hex(palette.color(s)) for s in STRATEGIES[:4]}
    finally:
        plt.close(fig)


def test_a_strategy_keeps_its_colour_across_the_figures_of_a_sweep():
    """river_hat shares figures with different companions; its key and its data keep one colour."""
    seen = {}
    for strategies, name in ((STRATEGIES, "accuracy_over_time"), (STRATEGIES[2:], "drift_induced_error"),
                             (["river_hat", "frozen"], "cost_tradeoff"), (["river_hat"], "reliability")):
        tables = sweep_tables(kinds=("concept", "label"), severities=(1.0,), strategies=strategies)
        fig = study.build_figure(tables, name, conditions=["drift.kind"])
        try:
            keys = legend_colours(fig)
            assert set(keys) == set(strategies)
            assert data_colours(fig) & set(keys.values()) == set(keys.values())
            seen[name] = keys["river_hat"]
        finally:
            plt.close(fig)
    assert len(set(seen.values())) == 1, seen


@pytest.mark.parametrize("kinds, severities", [(("a", "b", "c"), (0.25, 0.5, 1.0)), (("a",), (0.3,)),
                                               (("a", "b", "c", "d"), (0.4, 0.8, 0.9))])
def test_every_condition_gets_a_panel_over_time(kinds, severities):
    tables = sweep_tables(kinds=kinds, severities=severities, seeds=(0,))
    conditions = ["drift.kind", "drift.severity"] if len(kinds) > 1 else []
    fig = study.build_figure(tables, "accuracy_over_time", conditions=conditions)
    try:
        titles = {ax.get_title() for ax in panels(fig)}
        expected = {f"{k} drift, severity {s:g}" for k in kinds for s in severities} if conditions else {""}
        assert titles == expected
        assert len({ax.get_ylim() for ax in panels(fig)}) == 1  # one y range for the figure
    finally:
        plt.close(fig)


def test_over_time_legend_explains_onset_band_and_interval():
    fig = study.build_figure(sweep_tables(seeds=(0, 1, 2)), "accuracy_over_time", conditions=["drift.kind"])
    try:
        texts = legend_texts(fig)
        assert "drift onset" in texts
        assert any(t.startswith("drift transition") for t in texts)
        assert any("95% t-interval" in t and "3 seeds" in t for t in texts)
    finally:
        plt.close(fig)


def test_severity_boxes_put_kinds_in_their_own_panels_on_a_numeric_severity_axis():
    tables = sweep_tables(severities=(0.0, 0.25, 1.0), seeds=(0,), strategies=STRATEGIES[:2])
    fig = study.build_figure(tables, "severity_boxes", conditions=["drift.kind", "drift.severity"])
    try:
        axes = panels(fig)
        assert len(axes) == 2 * 3  # accuracy and ECE for each of the three kinds
        assert {ax.get_title() for ax in axes} == {"concept drift", "covariate drift", "label drift"}
        ticks = axes[0].get_xticks()
        assert list(ticks) == [0.0, 0.25, 1.0]  # at the severities themselves, not at categories 0, 1, 2
    finally:
        plt.close(fig)


def test_confidence_figures_skip_severity_zero_and_show_the_novel_subset():
    tables = sweep_tables(kinds=("novel",), severities=(0.0, 1.0))
    novel = tables["reliability"].query("phase == 'post'").assign(phase="novel")
    tables["reliability"] = pd.concat([tables["reliability"], novel])
    fig = study.build_figure(tables, "reliability", conditions=["drift.severity"])
    try:
        titles = [ax.get_title() for ax in panels(fig)]
        assert len(titles) == 3 and any("novel-class samples only" in t for t in titles)
        assert "severity 1 only" in fig.get_suptitle()
    finally:
        plt.close(fig)


def test_memory_axis_reads_in_kilobytes_and_megabytes():
    fig = study.build_figure(sweep_tables(kinds=("a",)), "memory_over_time", conditions=[])
    try:
        (ax,) = panels(fig)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert labels and all(label.endswith(("kB", "MB", " B")) for label in labels), labels
    finally:
        plt.close(fig)


def test_the_pdf_keeps_the_layout_the_png_was_laid_out_with(tmp_path):
    """The layout is computed once, for the PNG; the PDF reuses it: the panels of the saved figure sit
    where constrained layout puts them in a figure laid out on its own."""
    tables = sweep_tables(kinds=("concept", "label"), severities=(1.0,), strategies=STRATEGIES[:2])
    reference = study.build_figure(tables, "accuracy_over_time", conditions=["drift.kind"])
    reference.set_dpi(130)  # the dpi both files are saved at
    reference.draw_without_rendering()
    expected = np.array([ax.get_position().bounds for ax in reference.axes])
    plt.close(reference)
    fig = study.build_figure(tables, "accuracy_over_time", conditions=["drift.kind"])
    written = shared.save_figure(fig, tmp_path / "figure")
    assert [path.name for path in written] == ["figure.png", "figure.pdf"]
    assert np.array([ax.get_position().bounds for ax in fig.axes]) == pytest.approx(expected, abs=1e-3)
    assert (tmp_path / "figure.pdf").read_bytes().startswith(b"%PDF")


def test_the_shaded_interval_is_the_t_interval_of_the_mean_over_seeds():
    """The band drawn around a strategy's mean is scipy's 95% Student-t interval of the seeds' values."""
    from scipy import stats

    values = {0: [0.5, 0.7, 0.9], 1: [0.2, 0.25, 0.6]}
    windows = pd.DataFrame([{"strategy": "frozen", "t_end": t, "seed": s, "accuracy": v}
                            for t, column in values.items() for s, v in enumerate(column)])
    fig, ax = plt.subplots()
    try:
        shared.plot_over_time(windows, metric="accuracy", ax=ax)
        band = ax.collections[0].get_paths()[0].vertices
        for t, column in values.items():
            low, high = stats.t.interval(0.95, len(column) - 1, loc=np.mean(column), scale=stats.sem(column))
            drawn = band[np.isclose(band[:, 0], t), 1]
            assert np.allclose([drawn.min(), drawn.max()], [low, high])
    finally:
        plt.close(fig)


# Draws a critical-difference diagram whose one bar joins five strategies, and prints its files' hashes.
CD_SCRIPT = """
import hashlib, sys
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from harness.figures.shared import save_figure
from harness.figures.study import plot_critical_difference
names = ["frozen", "finetune", "river_logreg", "river_hat", "oracle"]
fig, ax = plt.subplots()
ranks, pvalues = pd.Series([1.5, 2.0, 2.5, 3.0, 4.0], index=names), pd.DataFrame(0.9, index=names, columns=names)
plot_critical_difference(ranks, pvalues, ax=ax)
save_figure(fig, Path(sys.argv[1]) / "cd")
print([hashlib.sha256((Path(sys.argv[1]) / f"cd.{form}").read_bytes()).hexdigest() for form in ("png", "pdf")])
"""


@pytest.mark.slow  # two fresh interpreters: the hash seed is fixed when one starts
def test_a_figure_is_the_same_bytes_whatever_the_hash_seed(tmp_path):
    """The PNG and the PDF (no creation date) of a critical-difference diagram, whose bars scikit-posthocs
    draws through sets of strategy names, are the same files under two hash seeds."""

    def hashes(seed: int) -> str:
        (tmp_path / str(seed)).mkdir()
        env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        return subprocess.run([sys.executable, "-c", CD_SCRIPT, str(tmp_path / str(seed))], env=env, check=True,
                              capture_output=True, text=True, timeout=120).stdout

    assert hashes(1) == hashes(2)
