"""The comparison's statistics: real conditions as blocks, the post-hoc tests, what a test can reach
with the number of conditions, and tables that LaTeX with booktabs accepts."""

import re

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from harness.results import report

STRATEGIES = ["frozen", "river_logreg", "finetune"]


def runs_table(kinds=("concept", "label"), severities=(0.0, 1.0), seeds=(0, 1), gap=0.1):
    """Hand-made runs: finetune > river_logreg > frozen by ``gap`` in every run, plus seeded noise."""
    rng = np.random.default_rng(1)
    rows = []
    for kind in kinds:
        for severity in severities:
            for seed in seeds:
                for i, s in enumerate(STRATEGIES):
                    rows.append({"run": f"{kind}{severity}{seed}", "strategy": s, "phase": "post", "drift.kind": kind,
                                 "drift.severity": severity, "seed": seed,
                                 "accuracy": 0.5 + gap * i + 0.01 * rng.random()})
    return pd.DataFrame(rows)


def test_severity_zero_of_every_kind_is_one_condition():
    runs = runs_table(kinds=("concept", "label", "novel"), severities=(0.0, 0.5, 1.0))
    result = report.comparison(runs, phase="post")
    # 3 kinds x 2 drifted severities + one shared no-drift condition
    assert result["friedman"]["n_conditions"] == 7
    assert len(result["means"]) == 7


def test_friedman_floor_is_the_p_value_of_unanimous_rankings():
    for n, k in ((2, 3), (4, 5), (6, 4)):
        unanimous = [np.full(n, float(j)) + np.arange(n) * 0.0 for j in range(k)]
        assert np.isclose(report.friedman_floor(n, k), stats.friedmanchisquare(*unanimous).pvalue)


def test_wilcoxon_floor_matches_scipy_exact_test():
    for n in (4, 5, 6):
        assert np.isclose(report.wilcoxon_floor(n), stats.wilcoxon(np.arange(1, n + 1) * 1.0).pvalue)


@settings(max_examples=40, deadline=None)  # scipy's own side takes up to a second a case
@given(st.lists(st.integers(-4, 4), min_size=1, max_size=15), st.sampled_from([0.1, 0.25, 1.0]))
def test_wilcoxon_p_is_scipys_p_value_with_ties_and_zeros(steps, unit):
    """Differences on a coarse grid tie and vanish often: scipy's sign-flip permutation case up to 13
    pairs, its exact or normal one otherwise."""
    diff = np.array(steps) * unit
    if np.allclose(diff, 0):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that few pairs cannot give a small p-value
        expected = stats.wilcoxon(diff).pvalue
    assert report.wilcoxon_p(diff) == expected


def test_nemenyi_critical_difference_matches_demsars_table():
    # Demšar (2006), Table 5a: q_0.05 = 2.343 (k=3), 2.728 (k=5), 3.031 (k=8)
    for k, q in ((3, 2.343), (5, 2.728), (8, 3.031)):
        assert np.isclose(report.nemenyi_cd(20, k), q * np.sqrt(k * (k + 1) / (6 * 20)), atol=2e-3)


def test_too_few_conditions_are_reported_instead_of_p_values_that_cannot_be_small():
    result = report.comparison(runs_table(kinds=("concept",), severities=(0.5, 1.0)), phase="post")
    assert result["friedman"] is None
    assert any("smallest possible p-value" in note and "2 conditions" in note for note in result["notes"])
    md, tex = report.format_comparison(result, metric="accuracy", phase="post")
    assert "smallest possible p-value" in md and "p = " not in md


def test_a_consistent_ordering_is_found_with_enough_conditions():
    result = report.comparison(runs_table(kinds=("a", "b", "c", "d", "e"), severities=(0.5, 1.0)), phase="post")
    assert result["friedman"]["p_value"] < 0.05
    assert list(result["average_rank"].index) == ["finetune", "river_logreg", "frozen"]
    pair = result["posthoc"].set_index(["a", "b"]).loc[("finetune", "frozen")]
    assert pair["p_nemenyi"] < 0.05
    assert pair["cliffs_delta"] == 1.0 and pair["magnitude"] == "large"  # finetune above frozen everywhere


def test_latex_tables_escape_names_and_use_booktabs():
    result = report.comparison(runs_table(kinds=("a_b", "c", "d", "e", "f")), phase="post")
    _, tex = report.format_comparison(result, metric="accuracy", phase="post")
    body = [line for line in tex.splitlines() if not line.startswith("%")]
    assert not [line for line in body if re.search(r"(?<!\\)[_%#$]", line.replace(r"$\pm$", ""))]
    assert r"river\_logreg" in tex and r"a\_b" in tex
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"\usepackage{booktabs}" in tex
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 3


def test_report_writes_markdown_latex_and_csv_with_mean_and_std(tmp_path):
    runs = runs_table(kinds=("a", "b", "c", "d", "e"))
    empty = pd.DataFrame()
    collection = report.Collection(runs=runs, windows=empty, costs=empty, confidence=empty, reliability=empty)
    report.write_report(collection, tmp_path, figures=[])
    table = pd.read_csv(tmp_path / "comparison_post.csv")
    assert {"mean", "std", "count", "strategy"} <= set(table.columns)
    one = runs[(runs["drift.kind"] == "a") & (runs["drift.severity"] == 1.0) & (runs.strategy == "frozen")]
    row = table[(table["drift.kind"] == "a") & (table["drift.severity"] == 1.0) & (table.strategy == "frozen")]
    assert np.isclose(row["mean"].item(), one.accuracy.mean()) and np.isclose(row["std"].item(), one.accuracy.std())
    assert (tmp_path / "comparison_post.md").read_text().count("±") > 0
