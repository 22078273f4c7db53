"""The pipeline study's figures, drawn from the report of two real tiny runs: the detection delays
are those the runs recorded, each fault has its panel, each strategy its fixed colour."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from harness.figures import palette, study
from harness.figures import pipeline as pipeline_plots
from harness.pipeline.api import run_experiment
from harness.results.report import collect
from tests.conftest import compose_config

FAULTS = ("scale", "missing")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    for fault in FAULTS:
        run_experiment(compose_config(["drift=pipeline", f"drift.fault={fault}", "strategy=[frozen,river_logreg]",
                            "figures=false", "offline.n_trials=1", "offline.max_epochs=5"]), root / fault)
    collection = collect([root])
    return {"runs": collection.runs, "windows": collection.windows}


def test_detection_delays_are_the_ones_each_run_recorded(runs):
    delays = pipeline_plots.detection_delays(runs["runs"])
    assert sorted(delays.fault.unique()) == sorted(FAULTS)
    by = delays.set_index(["fault", "detector"]).mean_detection_delay
    assert by[("missing", "missing_rate")] == 99 and by[("scale", "out_of_range")] == 99  # TINY: onset 500, windows of 100
    assert by[("scale", "missing_rate")] != by[("scale", "missing_rate")]  # missed: NaN
    assert set(delays.strategy) == {"frozen"}  # the monitored strategy serves the frozen network


def test_the_faults_figure_has_a_column_per_fault_and_the_strategies_colours(runs):
    fig = study.build_figure(runs, "pipeline_faults", conditions=["drift.fault"])
    try:
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert titles == sorted(FAULTS)  # a panel per fault, in alphabetical order
        assert all(ax.get_xlabel() == "fault severity" for ax in fig.axes)
        colours = {to_hex(line.get_color()) for ax in fig.axes for line in ax.get_lines()}
        assert {to_hex(palette.color(name)) for name in ("frozen", "river_logreg")} <= colours
    finally:
        plt.close(fig)


def test_the_detection_figure_draws_a_bar_per_detector_and_fault(runs):
    fig = study.build_figure(runs, "pipeline_detection", conditions=["drift.fault"])
    try:
        (ax,) = fig.axes
        heights = sorted(round(p.get_height()) for p in ax.patches if p.get_height() == p.get_height())
        assert 99 in heights and ax.get_ylabel().startswith("detection delay")
        assert [t.get_text() for t in ax.get_xticklabels()] == sorted(FAULTS)
    finally:
        plt.close(fig)
