"""Aggregate run directories into tidy tables and comparison tables. Reads results only.

    python -m harness.report DIR [DIR ...] [--out DIR] [--metric accuracy]

Writes ``runs.parquet`` (one row per run x strategy x phase, every swept config value its own
column), ``windows.parquet``, ``costs.parquet``, ``runs_failed.csv`` and, per phase,
``comparison_<phase>.md`` / ``.tex`` / ``.csv``: mean +/- std over seeds per strategy and condition
(severity 0 of every drift kind is one condition), the average rank of each strategy across
conditions, a Friedman test, Nemenyi post-hoc p-values with the critical difference
(scikit-posthocs), Holm-adjusted Wilcoxon signed-rank tests and Cliff's delta, and a note whenever a
test cannot reach p < 0.05 with that many conditions. The ``.tex`` tables use booktabs rules: the
document needs ``\\usepackage{booktabs}``. With figures, ``figures/critical_difference_post``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness.results.ownership import REPORT_RECORD
from harness.results.store import CONFIG_RECORD, atomic_write, run_state, write_json, write_table
from harness.scores import metrics

# Always reported, swept or not: what a reader needs to tell runs apart.
KEY_COLUMNS = ("stream.family", "drift.kind", "drift.pattern", "drift.severity", "drift.fault", "replay.label_delay",
               "seed")  # drift.fault: null but with drift.kind=pipeline
HIGHER_IS_BETTER = {"accuracy": True, "ece": False, "brier": False, "nll": False,
                    "confident_error_rate": False, "confident_error_share": False}  # fmt: skip


TAUS = np.round(np.arange(0.0, 1.0, 0.1), 1)  # confidence thresholds of the Ovadia-style curves
TABLES = ("runs", "windows", "costs", "confidence", "reliability")


@dataclass
class Collection:
    runs: pd.DataFrame  # run x strategy x phase: summary.csv + headline metrics
    windows: pd.DataFrame  # run x strategy x window
    costs: pd.DataFrame  # run x strategy
    confidence: pd.DataFrame  # run x strategy x phase (pre/post) x tau: accuracy, count
    reliability: pd.DataFrame  # run x strategy x phase (pre/post) x bin: confidence, accuracy, count
    failed: list[dict] = field(default_factory=list)  # {run, error_type, message}
    unfinished: list[Path] = field(default_factory=list)


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Every directory below ``roots`` that holds a run's config record (``.hydra/``)."""
    found = set()
    for root in map(Path, roots):
        if (root / CONFIG_RECORD).is_dir():
            found.add(root)
        found.update(path.parent for path in root.rglob(CONFIG_RECORD) if path.is_dir())
    return sorted(found)


def _lookup(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def config_columns(result: dict) -> dict:
    """The key columns and every overridden key of a run, with the resolved (typed) values, as the run
    recorded them in its ``result.json`` (never from ``.hydra/``, which a later invocation may rewrite)."""
    config = result.get("config") or {}
    overrides = result.get("overrides") or []
    keys = list(KEY_COLUMNS)
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        # hydra.* is the launcher's business; the strategy is a column of every table already
        if not key.startswith(("hydra.", "strategy")) and key not in keys:
            keys.append(key)
    columns = {}
    for key in keys:
        value = _lookup(config, key)
        if value is None and key not in KEY_COLUMNS:  # a group choice such as strategy=[...]
            value = next(o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+~") == key)
        columns[key] = value if not isinstance(value, (dict, list)) else str(value)
    return columns


def prediction_tables(predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confidence curves and reliability bins per strategy, before (``pre``) and after (``post``)
    the drift, and on the post-drift samples of a novel class alone (``novel``, when there are any);
    over the whole stream (``all``) when the drift is unknown (no pre/post phases)."""
    curves, bins = [], []
    proba_columns = sorted((c for c in predictions.columns if c.startswith("p_")), key=lambda c: int(c[2:]))
    parts = [predictions[predictions.phase.isin(["pre", "post"])]]
    after = predictions.phase == "post"
    if parts[0].empty:  # the drift is unknown (real data, no change points declared): the whole stream
        parts, after = [predictions.assign(phase="all")], np.ones(len(predictions), dtype=bool)
    if "novel" in predictions:
        parts.append(predictions[after & predictions.novel.astype(bool)].assign(phase="novel"))
    for (strategy, phase), rows in pd.concat(parts).groupby(["strategy", "phase"]):
        y, proba = rows["y_true"].to_numpy(), rows[proba_columns].to_numpy()
        accuracy, count = metrics.accuracy_above(y, proba, TAUS)
        curves.append(pd.DataFrame({"strategy": strategy, "phase": phase, "tau": TAUS, "accuracy": accuracy,
                                    "count": count, "share": count / len(y)}))  # fmt: skip
        confidence, accuracy, count = metrics.reliability_bins(y, proba)
        bins.append(pd.DataFrame({"strategy": strategy, "phase": phase, "bin": np.arange(len(count)),
                                  "confidence": confidence, "accuracy": accuracy, "count": count}))  # fmt: skip
    return pd.concat(curves, ignore_index=True), pd.concat(bins, ignore_index=True)


def collect(roots: list[Path], read: Callable[[Path], tuple[str, object]] | None = None) -> Collection:
    """Read every run below ``roots``. Failed, corrupt (a file changed since the run wrote it, or one
    that cannot be read) and unfinished runs are listed, never read and never dropped silently.
    ``read`` reads one run as :func:`read_one` does (``harness.results.follow`` recalls runs it read
    while the sweep went on)."""
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    failed, unfinished = [], []
    for run_dir in find_run_dirs(roots):
        outcome, read_out = (read or read_one)(run_dir)
        if outcome == "unfinished":
            unfinished.append(run_dir)
        elif outcome == "failed":
            failed.append(read_out)
        else:
            for name, frame in read_out.items():
                tables[name].append(frame)

    def concat(frames):
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    return Collection(**{name: concat(frames) for name, frames in tables.items()}, failed=failed, unfinished=unfinished)


def read_one(run_dir: Path) -> tuple[str, object]:
    """One run directory as the report sees it: ``("ok", its tables)``, ``("failed", a row of
    runs_failed.csv)`` (failed, corrupt or unreadable) or ``("unfinished", run_dir)``."""
    state = run_state(run_dir)
    if state.state == "missing":
        return "unfinished", run_dir
    if state.state != "ok":
        error_type = state.result.get("error_type") if state.state == "failed" else state.state
        return "failed", {"run": str(run_dir), "error_type": error_type,
                          "message": state.result.get("message") if state.state == "failed" else state.message}
    try:
        return "ok", read_run(run_dir, state.result)
    except Exception as error:  # a file that parses badly: list the run, do not stop the report
        return "failed", {"run": str(run_dir), "error_type": "unreadable", "message": f"{type(error).__name__}: {error}"}


def read_run(run_dir: Path, result: dict) -> dict[str, pd.DataFrame]:
    """One finished run's tables, each with the run's config columns."""
    columns = {"run": str(run_dir), **config_columns(result),
               "schedule.onset": result["schedule"]["onset"], "schedule.width": result["schedule"]["width"]}
    headline = pd.DataFrame.from_dict(result["strategies"], orient="index")
    summary = pd.read_csv(run_dir / "summary.csv").merge(
        headline.reindex(columns=["drift_induced_error", "recovery_samples"]), left_on="strategy", right_index=True
    )
    confidence, reliability = prediction_tables(pd.read_parquet(run_dir / "predictions.parquet"))
    read = {"runs": summary, "windows": pd.read_csv(run_dir / "windows.csv"),
            "costs": pd.read_csv(run_dir / "costs.csv"), "confidence": confidence, "reliability": reliability}
    return {name: frame.assign(**columns) for name, frame in read.items()}


def condition_columns(runs: pd.DataFrame) -> list[str]:
    """Config columns that vary across runs, seed excluded: what defines a condition."""
    config = [c for c in runs.columns if "." in c and not c.startswith("schedule.")]
    return [c for c in config if runs[c].astype(str).nunique() > 1]


ALPHA = 0.05
NO_DRIFT = "none (severity 0)"


def blocks(rows: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """``rows`` with severity-0 runs made one condition: with no drift, the drift's kind and pattern
    name no difference, so they read ``none (severity 0)`` (one Friedman block, not one per kind)."""
    if "drift.severity" not in rows or not (rows["drift.severity"] == 0).any():
        return rows
    rows = rows.copy()
    for column in ("drift.kind", "drift.pattern", "drift.width"):
        if column in conditions:
            rows[column] = rows[column].astype(object).where(rows["drift.severity"] != 0, NO_DRIFT)
    return rows


def friedman_floor(n_blocks: int, k: int) -> float:
    """Smallest p-value the Friedman chi-square test can return with ``n_blocks`` blocks and ``k``
    treatments: every block ranks the treatments the same way, chi2 = n (k - 1).

    >>> round(friedman_floor(2, 3), 4), round(friedman_floor(10, 3), 6)
    (0.1353, 4.5e-05)
    """
    return float(stats.chi2.sf(n_blocks * (k - 1), k - 1))


def nemenyi_cd(n_blocks: int, k: int, alpha: float = ALPHA) -> float:
    """Critical difference of average ranks (Demšar 2006): q_alpha(k, inf) / sqrt(2) * sqrt(k (k + 1) / (6 n)).

    >>> round(nemenyi_cd(10, 5), 3)  # Demsar's table: q_0.05 = 2.728 for k = 5
    1.929
    """
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6 * n_blocks)))


def wilcoxon_floor(n_blocks: int) -> float:
    """Smallest two-sided exact p-value of the Wilcoxon signed-rank test on ``n_blocks`` pairs.

    >>> wilcoxon_floor(4), wilcoxon_floor(6)
    (0.125, 0.03125)
    """
    return 2 / 2**n_blocks


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> float:
    """Cliff's delta, P(a > b) - P(a < b), from the Mann-Whitney U statistic (scipy has U, not delta).

    >>> cliffs_delta(np.array([3, 4]), np.array([1, 2])), cliffs_delta(np.array([1, 2]), np.array([1, 2]))
    (1.0, 0.0)
    """
    u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic
    return float(2 * u / (len(a) * len(b)) - 1)


def magnitude(delta: float) -> str:
    """Romano et al. (2006) thresholds on |Cliff's delta|."""
    size = abs(delta)
    return "negligible" if size < 0.147 else "small" if size < 0.33 else "medium" if size < 0.474 else "large"


def comparison(runs: pd.DataFrame, *, phase: str, metric: str = "accuracy") -> dict:
    """Mean/std over seeds per (condition, strategy), average ranks over conditions (1 = best),
    Friedman test, Nemenyi post-hoc (scikit-posthocs) with the critical difference, Holm-adjusted
    Wilcoxon, Cliff's delta; each test says whether it can reach p < ALPHA with this many conditions.
    Blocks are real conditions: severity 0 of every drift kind is one condition."""
    conditions = condition_columns(runs)
    rows = blocks(runs[runs.phase == phase], conditions)
    group = conditions + ["strategy"]
    table = rows.groupby(group, dropna=False)[metric].agg(["mean", "std", "count"]).reset_index()
    means = table.pivot_table(index=conditions or None, columns="strategy", values="mean") if conditions else (
        table.set_index("strategy")["mean"].to_frame().T
    )
    higher = HIGHER_IS_BETTER.get(metric, True)
    ranks = means.rank(axis=1, ascending=not higher)
    out = {"table": table, "means": means, "average_rank": ranks.mean().sort_values(), "friedman": None,
           "posthoc": None, "nemenyi": None, "conditions": conditions, "notes": []}
    complete = means.dropna()
    n, k = complete.shape
    if k < 3 or n < 2:
        out["notes"].append(f"Friedman test: needs at least 3 strategies and 2 conditions; here {k} strategies "
                            f"over {n} condition(s) with every strategy.")
        return out
    out["average_rank"] = complete.rank(axis=1, ascending=not higher).mean().sort_values()
    floor = friedman_floor(n, k)
    if floor >= ALPHA:
        out["notes"].append(f"Friedman test not run: with {n} conditions and {k} strategies its smallest "
                            f"possible p-value is {floor:.3g} >= {ALPHA}.")
        return out
    statistic, p_value = stats.friedmanchisquare(*[complete[c].to_numpy() for c in complete.columns])
    out["friedman"] = {"statistic": float(statistic), "p_value": float(p_value), "n_conditions": n,
                       "n_strategies": k, "p_floor": floor}
    out["nemenyi"] = pairwise_nemenyi(complete, higher=higher)
    out["cd"] = nemenyi_cd(n, k)
    if out["cd"] >= k - 1:
        out["notes"].append(f"Nemenyi: the critical difference {out['cd']:.2f} exceeds the largest possible "
                            f"rank difference {k - 1}: no pair can differ with {n} conditions.")
    out["posthoc"] = pairwise_table(complete, out["nemenyi"], higher=higher)
    if wilcoxon_floor(n) >= ALPHA:
        out["notes"].append(f"Wilcoxon signed-rank: with {n} conditions its smallest possible p-value is "
                            f"{wilcoxon_floor(n):.3g} >= {ALPHA}; its column cannot show significance.")
    return out


def pairwise_nemenyi(means: pd.DataFrame, *, higher: bool = True) -> pd.DataFrame:
    """Nemenyi post-hoc p-values (strategy x strategy) after Friedman, from scikit-posthocs; ``means``
    is conditions x strategies."""
    import scikit_posthocs as sp

    return sp.posthoc_nemenyi_friedman(means if higher else -means)


def pairwise_table(means: pd.DataFrame, nemenyi: pd.DataFrame, *, higher: bool = True) -> pd.DataFrame:
    """Every pair: mean difference of the metric (a - b), Cliff's delta and its magnitude, the
    difference of average ranks, the Nemenyi p-value and the Holm-adjusted Wilcoxon p-value."""
    ranks = means.rank(axis=1, ascending=not higher).mean()
    pairs = pairwise_wilcoxon_holm(means)
    delta = [cliffs_delta(means[a].to_numpy(), means[b].to_numpy()) for a, b in zip(pairs.a, pairs.b)]
    return pairs.assign(
        cliffs_delta=delta,
        magnitude=[magnitude(d) for d in delta],
        rank_difference=[ranks[a] - ranks[b] for a, b in zip(pairs.a, pairs.b)],
        p_nemenyi=[float(nemenyi.loc[a, b]) for a, b in zip(pairs.a, pairs.b)],
    ).sort_values("p_nemenyi", ignore_index=True)


def pairwise_wilcoxon_holm(means: pd.DataFrame) -> pd.DataFrame:
    """Wilcoxon signed-rank test for every pair of strategies (columns) over the conditions (rows),
    p-values adjusted by Holm's step-down method (scipy has the test, not the adjustment)."""
    pairs = []
    names = list(means.columns)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            diff = means[a] - means[b]
            p = 1.0 if np.allclose(diff, 0) else wilcoxon_p(diff.to_numpy())
            pairs.append({"a": a, "b": b, "mean_difference": float(diff.mean()), "p_value": p})
    frame = pd.DataFrame(pairs).sort_values("p_value", ignore_index=True)
    m = len(frame)
    adjusted = np.maximum.accumulate([min(1.0, (m - k) * p) for k, p in enumerate(frame.p_value)])
    return frame.assign(p_holm=adjusted)


def wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test on paired differences, the one
    ``scipy.stats.wilcoxon(diff)`` gives. With tied or zero differences among at most 13 pairs, scipy
    runs an exact sign-flip ``permutation_test`` that calls its statistic once per flip (2**n Python
    calls, about 0.4 s at 12 pairs); the same test, given the statistic vectorised over the flips,
    computes the same sums of positive ranks and so the same p-value in milliseconds.

    >>> d = np.array([0.1, 0.1, -0.2, 0.3, 0.0, 0.4])  # a tie and a zero: scipy's permutation case
    >>> bool(np.isclose(wilcoxon_p(d), stats.wilcoxon(d).pvalue)), round(wilcoxon_p(d), 4)
    (True, 0.3125)
    """
    diff = np.asarray(diff, dtype=float)
    nonzero = np.abs(diff[diff != 0])
    if len(diff) > 13 or (len(np.unique(nonzero)) == len(nonzero) == len(diff)):
        return float(stats.wilcoxon(diff).pvalue)  # exact without ties, normal approximation above 13
    ranks = np.zeros_like(diff)
    ranks[diff != 0] = stats.rankdata(nonzero)  # a flip changes a sign, never |d|: the ranks stay

    def positive_ranks(flipped: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.sum(np.where(flipped > 0, ranks, 0.0), axis=axis)

    return float(stats.permutation_test((diff,), positive_ranks, permutation_type="samples", vectorized=True,
                                        n_resamples=2**13, alternative="two-sided").pvalue)


def comparison_cells(result: dict) -> pd.DataFrame:
    """Conditions x strategies of ``mean ± std`` strings (the mean alone for a single seed)."""
    table, conditions = result["table"], result["conditions"]
    cells = table.assign(value=[f"{m:.3f} ± {s:.3f}" if c > 1 else f"{m:.3f}"
                                for m, s, c in zip(table["mean"], table["std"].fillna(0), table["count"])])  # fmt: skip
    if not conditions:
        return cells.set_index("strategy")[["value"]].T
    wide = cells.pivot_table(index=conditions, columns="strategy", values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    return wide


def format_comparison(result: dict, *, metric: str, phase: str) -> tuple[str, str]:
    """The comparison as markdown and as LaTeX (names escaped; the tables use booktabs rules, so the
    document needs ``\\usepackage{booktabs}``)."""
    wide = comparison_cells(result)
    ranks = result["average_rank"].to_frame("average rank (1 = best)").T
    title = f"{metric}, phase {phase} (mean ± std over seeds)"
    md = [f"### {title}", "", wide.to_markdown(index=False), "", ranks.to_markdown(floatfmt=".2f"), ""]
    tex = [f"% {title}", "% needs \\usepackage{booktabs}",
           wide.to_latex(index=False, escape=True, float_format="%g").replace("±", r"$\pm$"),
           ranks.to_latex(float_format="%.2f", escape=True)]
    if result["friedman"]:
        f = result["friedman"]
        line = (f"Friedman test over {f['n_conditions']} conditions x {f['n_strategies']} strategies: "
                f"chi2 = {f['statistic']:.3f}, p = {f['p_value']:.3g} (smallest possible p {f['p_floor']:.2g}); "
                f"Nemenyi critical difference of average ranks at alpha = {ALPHA}: {result['cd']:.2f}")
        posthoc = result["posthoc"][["a", "b", "mean_difference", "cliffs_delta", "magnitude", "rank_difference",
                                     "p_nemenyi", "p_holm"]]
        md += [line, "", "Pairs: mean difference (a - b), Cliff's delta over conditions, average-rank difference, "
               "Nemenyi p-value, Holm-adjusted Wilcoxon signed-rank p-value:", "",
               posthoc.to_markdown(index=False, floatfmt=".3g"), ""]
        tex += [f"% {line}", posthoc.to_latex(index=False, float_format="%.3g", escape=True)]
    for note in result["notes"]:
        md += [note, ""]
        tex.append(f"% {note}")
    return "\n".join(md) + "\n", "\n".join(tex)


def write_report(collection: Collection, out: Path, *, metric: str = "accuracy",
                 figures: list[str] | None = None) -> list[Path]:  # fmt: skip
    """Tables, comparison tables and (unless ``figures == []``) figures into ``out``; first its
    record ``report.json``, by which a later report recognises the directory as a report's. The
    tables are written while the figures are drawn (in forks of this process, where it may fork)."""
    out.mkdir(parents=True, exist_ok=True)
    written = [write_json(out / REPORT_RECORD, {"written_by": "harness.results.report", "metric": metric})]
    phases = ("pre", "post", "all") if not collection.runs.empty else ()
    results: dict[str, dict] = {}  # phase -> its comparison, computed once

    def compared(phase: str) -> dict:
        if phase not in results:
            results[phase] = comparison(collection.runs, phase=phase, metric=metric)
        return results[phase]

    def write_tables() -> list[Path]:
        paths = [write_table(out / f"{name}.parquet", getattr(collection, name)) for name in TABLES]
        paths.append(write_table(out / "runs_failed.csv", pd.DataFrame(
            collection.failed + [{"run": str(p), "error_type": "unfinished", "message": "no result.json"}
                                 for p in collection.unfinished], columns=["run", "error_type", "message"])))  # fmt: skip
        for phase in phases:
            result = compared(phase)
            md, tex = format_comparison(result, metric=metric, phase=phase)
            for suffix, text in ((".md", md), (".tex", tex)):
                paths.append(atomic_write(out / f"comparison_{phase}{suffix}", lambda tmp: tmp.write_text(text)))
            paths.append(write_table(out / f"comparison_{phase}.csv", result["table"]))
        return paths

    if figures == [] or not phases:
        return written + write_tables()
    from harness.figures.study import draw_figures  # matplotlib only when figures are asked for

    tables = {name: getattr(collection, name) for name in TABLES}
    post = compared("post")  # the critical-difference diagram's, before the forks that draw it
    extra = {"critical_difference_post": partial(critical_difference_figure, post)} if post["posthoc"] is not None else {}
    return written + draw_figures(tables, out / "figures", conditions=condition_columns(collection.runs),
                                  names=figures, extra=extra, meanwhile=write_tables)


def critical_difference_figure(result: dict):
    """The critical-difference diagram of a comparison (Nemenyi after Friedman)."""
    import matplotlib.pyplot as plt

    from harness.figures.study import plot_critical_difference

    k = len(result["average_rank"])
    fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.3 * k), layout="constrained")
    plot_critical_difference(result["average_rank"], result["nemenyi"], cd=result["cd"], ax=ax)
    f = result["friedman"]
    fig.suptitle(f"Average rank over {f['n_conditions']} conditions (1 = best); Friedman p = {f['p_value']:.2g}.\n"
                 f"Bars join strategies the Nemenyi test cannot tell apart (alpha = {ALPHA}); "
                 f"CD: critical difference.", fontsize="small")
    return fig
