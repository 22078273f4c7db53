"""Every number of summary.csv, windows.csv, costs.csv and result.json, recomputed here.

One small run of the default experiment (and one with a novel sub-population, for the ``novel``
rows) writes its files; each test reads them back and recomputes the numbers from
``predictions.parquet`` (probabilities, latencies) and ``stream_deploy.parquet`` (labels, time)
with plain loops written out below, sharing no code with ``harness.scores.metrics`` or ``harness.pipeline.summary``.
"""

import json
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from harness.run import run
from tests.conftest import compose_config

RUNS = {
    "default": ["save_stream=true", "replay.label_fraction=0.8"],
    "novel": ["save_stream=true", "drift=novel", "strategy=[frozen,finetune]"],
    "bounds": ["save_stream=true", "strategy=[frozen,finetune,oracle,oracle_switch]"],
}
BINS = 15
CLOSE = dict(rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module", params=list(RUNS))
def written(request, tmp_path_factory):
    """The files of one run, and the per-sample facts recomputed from them."""
    cfg = compose_config(RUNS[request.param])
    out = tmp_path_factory.mktemp(request.param)
    run(cfg, out)
    predictions = pd.read_parquet(out / "predictions.parquet")
    stream = pd.read_parquet(out / "stream_deploy.parquet")
    result = json.loads((out / "result.json").read_text())
    samples = {}
    for name, rows in predictions.groupby("strategy", sort=False):
        rows = rows.sort_values("t").reset_index(drop=True)
        assert list(rows.t) == list(stream.t) and list(rows.y_true) == list(stream.y)
        samples[name] = per_sample(rows, stream.y.to_numpy())
    return {
        "cfg": cfg,
        "out": out,
        "stream": stream,
        "predictions": predictions,
        "samples": samples,
        "summary": pd.read_csv(out / "summary.csv"),
        "windows": pd.read_csv(out / "windows.csv"),
        "costs": pd.read_csv(out / "costs.csv").set_index("strategy"),
        "result": result,
    }


def per_sample(rows: pd.DataFrame, y: np.ndarray) -> list[dict]:
    """For each sample: label, probabilities, argmax (lowest index on ties), confidence, correct."""
    k = sum(1 for column in rows.columns if column.startswith("p_"))
    proba = rows[[f"p_{i}" for i in range(k)]].to_numpy().tolist()
    out = []
    for label, p in zip(y.tolist(), proba):
        best = 0
        for i in range(1, k):
            if p[i] > p[best]:
                best = i
        out.append({"y": label, "p": p, "pred": best, "conf": p[best], "correct": best == label})
    return out


def accuracy(samples):
    return sum(s["correct"] for s in samples) / len(samples)


def ece(samples):
    total = 0.0
    for b in range(BINS):
        low, high = b / BINS, (b + 1) / BINS
        in_bin = [s for s in samples if (low < s["conf"] or b == 0) and s["conf"] <= high]
        if in_bin:
            gap = accuracy(in_bin) - sum(s["conf"] for s in in_bin) / len(in_bin)
            total += len(in_bin) / len(samples) * abs(gap)
    return total


def brier(samples):
    total = 0.0
    for s in samples:
        onehot = [1.0 if i == s["y"] else 0.0 for i in range(len(s["p"]))]
        total += sum((p - o) ** 2 for p, o in zip(s["p"], onehot))
    return total / len(samples)


def nll(samples):
    return sum(-math.log(max(s["p"][s["y"]], 1e-15)) for s in samples) / len(samples)


def confident_mistakes(samples, tau):
    return sum(1 for s in samples if not s["correct"] and s["conf"] >= tau)


def confident_error_share(samples, tau):
    mistakes = sum(1 for s in samples if not s["correct"])
    return confident_mistakes(samples, tau) / mistakes if mistakes else float("nan")


def mean_confidence(samples):
    return sum(s["conf"] for s in samples) / len(samples)


def phase_of(t: int, onset: int, width: int) -> str:
    return "pre" if t < onset else "drift" if t < onset + width else "post"


def phase_positions(written) -> dict[str, list[int]]:
    """Sample positions per phase, from the schedule in result.json and the stream's own ``t``."""
    schedule = written["result"]["schedule"]
    stream = written["stream"]
    phases = [phase_of(t, schedule["onset"], schedule["width"]) for t in stream.t]
    assert phases == list(stream.phase)
    positions = {phase: [i for i, p in enumerate(phases) if p == phase] for phase in ("pre", "drift", "post")}
    positions = {phase: rows for phase, rows in positions.items() if rows}  # a phase without samples has no row
    positions["all"] = list(range(len(stream)))
    if stream.novel.any():
        positions["novel"] = [i for i, novel in enumerate(stream.novel) if novel]
    return positions


def same(a, b) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, **CLOSE)


@pytest.mark.slow
def test_summary_rows_recomputed(written):
    tau = written["cfg"].metrics.confidence_threshold
    positions = phase_positions(written)
    summary = written["summary"]
    pairs = {(name, phase) for name in written["samples"] for phase in positions}
    assert sorted(zip(summary.strategy, summary.phase)) == sorted(pairs)
    for row in summary.itertuples():
        chosen = positions[row.phase]
        samples = [written["samples"][row.strategy][i] for i in chosen]
        assert row.n == len(chosen)
        if not samples:
            assert np.isnan(row.accuracy) and np.isnan(row.brier)
            continue
        expected = {
            "accuracy": accuracy(samples),
            "ece": ece(samples),
            "brier": brier(samples),
            "nll": nll(samples),
            "confident_error_rate": confident_mistakes(samples, tau) / len(samples),
            "confident_error_share": confident_error_share(samples, tau),
            "mean_confidence": mean_confidence(samples),
        }
        expected["regret"] = regret(written["samples"], chosen, samples)
        for column, value in expected.items():
            assert same(getattr(row, column), value), (row.strategy, row.phase, column, getattr(row, column), value)


def regret(all_samples: dict, positions: list[int], samples: list) -> float:
    """oracle_switch's accuracy on ``positions`` minus the strategy's; NaN without oracle_switch."""
    if "oracle_switch" not in all_samples:
        return float("nan")
    return accuracy([all_samples["oracle_switch"][i] for i in positions]) - accuracy(samples)


def test_windows_rows_recomputed(written):
    tau = written["cfg"].metrics.confidence_threshold
    window = written["cfg"].metrics.window
    windows, costs = written["windows"], written["costs"]
    for name, samples in written["samples"].items():
        rows = windows.query("strategy == @name").sort_values("window")
        ends = list(range(window, len(samples), window)) + [len(samples)]
        assert list(rows.t_end) == ends
        start = 0
        for row, end in zip(rows.itertuples(), ends):
            chunk = samples[start:end]
            assert same(row.accuracy, accuracy(chunk))
            assert same(row.ece, ece(chunk))
            assert same(row.confident_error_rate, confident_mistakes(chunk, tau) / len(chunk))
            assert same(row.mean_confidence, mean_confidence(chunk))
            assert same(row.regret, regret(written["samples"], list(range(start, end)), chunk))
            start = end
        assert rows.model_bytes.notna().all()  # measured as deployed, so every window has a value
        assert rows.model_bytes.iloc[-1] == costs.loc[name, "model_bytes"]
        assert rows.model_bytes.max() <= costs.loc[name, "peak_model_bytes"]


def adam_steps(label_used: list[bool], step: int, batch_size: int, delay: int) -> int:
    """Steps of a learner that takes ceil(labels / batch_size) steps on each learn call, the loop
    handing it the labels arrived after each block of ``step`` predictions."""
    n, learned, steps = len(label_used), 0, 0
    for start in range(0, n, step):
        available = min(start + step, n) - delay
        if available > learned:
            labels = sum(label_used[learned:available])
            steps += -(-labels // batch_size)
            learned = available
    return steps


@pytest.mark.slow
def test_costs_rows_recomputed(written):
    cfg, costs, predictions = written["cfg"], written["costs"], written["predictions"]
    assert set(costs.index) == set(written["samples"])
    for name, row in costs.iterrows():
        rows = predictions.query("strategy == @name")
        latency = np.sort(rows.latency_us.to_numpy())
        for q, column in ((50, "latency_p50_us"), (99, "latency_p99_us"), (99.9, "latency_p999_us")):
            position = q / 100 * (len(latency) - 1)  # linear interpolation between order statistics
            low = int(math.floor(position))
            high = min(low + 1, len(latency) - 1)
            expected = latency[low] + (position - low) * (latency[high] - latency[low])
            assert row[column] == pytest.approx(expected, rel=1e-9), (name, column)
        assert row.latency_max_us == latency[-1]
        assert row.latency_jitter == pytest.approx(row.latency_p99_us / row.latency_p50_us, rel=1e-12)
        assert row.latency_mode == "per_request" and row.serve_batch == 1
        # one request per call: the latencies add up to the predict time plus every learn but the last
        assert row.predict_s * 1e6 <= latency.sum() * (1 + 1e-9)
        assert latency.sum() <= (row.predict_s + row.learn_s) * 1e6 * (1 + 1e-9)
        assert row.samples_per_s == pytest.approx(len(rows) / (row.predict_s + row.learn_s), rel=1e-12)
        assert row.peak_model_bytes >= row.model_bytes > 0
        assert row.peak_rss_bytes > 0 and row.peak_rss_scope in ("strategy", "process")
        used = rows.sort_values("t").label_used.tolist()
        if name == "finetune":
            node = cfg.strategy.finetune
            assert row.n_updates == adam_steps(used, node.batch_size, node.batch_size, cfg.replay.label_delay)
        elif name.startswith("river"):
            assert row.n_updates == sum(used)
        else:
            assert row.n_updates == 0
    fraction, n = cfg.replay.label_fraction, len(written["stream"])
    assert predictions.query("strategy == 'frozen'").label_used.sum() == round(fraction * n)


def recovery(errors: list[int], start: int, baseline: Fraction, window: int, tolerance: float) -> float:
    """Scan the windows lying wholly at or after ``start``; samples from ``start`` to the end of the
    first whose error is within ``tolerance`` of ``baseline`` (exact fractions: an error equal to
    baseline + tolerance counts as within, whatever the float round-off)."""
    bound = baseline + Fraction(str(tolerance))
    for end in range(start + window, len(errors) + 1):
        if Fraction(sum(errors[end - window : end]), window) <= bound:
            return float(end - start)
    return float("nan")


@pytest.mark.slow
def test_result_json_per_strategy_recomputed(written):
    cfg, result = written["cfg"], written["result"]
    tau, window = cfg.metrics.confidence_threshold, cfg.metrics.window
    positions = phase_positions(written)
    schedule = result["schedule"]
    assert set(result["strategies"]) == set(written["samples"])
    for name, values in result["strategies"].items():
        samples = written["samples"][name]
        pre = [samples[i] for i in positions["pre"]]
        post = [samples[i] for i in positions["post"]]
        error_pre, error_post = 1 - accuracy(pre), 1 - accuracy(post)
        errors = [0 if s["correct"] else 1 for s in samples]
        baseline = Fraction(sum(errors[i] for i in positions["pre"]), len(pre))
        expected = {
            "accuracy_pre": 1 - error_pre,
            "accuracy_post": 1 - error_post,
            "drift_induced_error": error_post - error_pre,
            "recovery_samples": recovery(errors, schedule["onset"] + schedule["width"], baseline, window,
                                         cfg.metrics.recovery_tolerance),
            "confident_error_rate_post": confident_mistakes(post, tau) / len(post),
            "ece_post": ece(post),
            "samples_per_s": len(samples) / (written["costs"].loc[name, "predict_s"] + written["costs"].loc[name, "learn_s"]),
        }
        for key, value in expected.items():
            got = values[key]
            got = float("nan") if got is None else got
            assert same(got, value), (name, key, got, value)
