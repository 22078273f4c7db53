"""The label side's one-sort ranking (:mod:`harness.monitor.ranking`) equals the per-phase definitions
(:func:`novelty.auroc_score`, :func:`novelty.risk_coverage`) exactly, and scikit-learn's AUROC, on
streams walked in many blocks, with ties across block ends and NaN scores; and the MMD's faster
median and kernel give the numbers of torch's median and the plain formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from harness.monitor import novelty
from harness.monitor.ranking import rank_score
from harness.scores import shift

COVERAGES = (0.1, 0.5, 0.8, 0.9, 1.0)


def stream(n: int, seed: int, ties: bool):
    """Scores (rounded to a few values when ``ties``), three phases, novel and error flags."""
    rng = np.random.default_rng([seed, 7])
    values = rng.normal(size=n)
    if ties:
        values = np.round(values * 2) / 2  # about ten distinct values: tie groups span blocks
    phase = np.array(["pre", "drift", "post"])[np.minimum(np.arange(n) * 3 // max(n, 1), 2)]
    error = rng.random(n) < 1 / (1 + np.exp(-2 * values))  # higher score, more mistakes
    novel = rng.random(n) < 0.2
    confident = error & (rng.random(n) < 0.5)
    return values, phase, error, novel, confident


def by_phase(values, phase, error, novel, confident):
    """The per-phase definitions on copies of each phase's samples: what score.py computed before."""
    masks = {name: phase == name for name in ("pre", "drift", "post") if (phase == name).any()}
    masks["all"] = np.ones(len(values), dtype=bool)
    auroc = {p: {"novel": novelty.auroc_score(values[m], novel[m]), "mistake": novelty.auroc_score(values[m], error[m])}
             for p, m in masks.items()}
    risk = {p: {c: novelty.risk_coverage(values[m], error[m], confident[m], c) for c in COVERAGES}
            for p, m in masks.items()}
    return auroc, risk


def ranked(values, phase, error, novel, confident, block):
    masks = {name: phase == name for name in ("pre", "drift", "post")}
    return rank_score(values, {**masks, "all": None}, {"novel": novel, "mistake": error}, error, confident,
                      COVERAGES, block=block)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("block", [1, 7, 1000, 1 << 20])
def test_one_sort_equals_the_per_phase_auroc_and_selective_risk_exactly(ties, block):
    values, phase, error, novel, confident = stream(3001, 1, ties)
    auroc, risk = by_phase(values, phase, error, novel, confident)
    got = ranked(values, phase, error, novel, confident, block)
    for p in auroc:
        for target in ("novel", "mistake"):
            assert got.auroc[p][target] == auroc[p][target], (p, target)  # exact, not approximate
        assert got.risk[p] == risk[p], p
    assert got.counts["drift"]["novel"] == (int(novel[phase == "drift"].sum()), int((~novel[phase == "drift"]).sum()))


def test_auroc_of_a_long_stream_in_blocks_equals_scikit_learn():
    """200,000 samples with heavy ties, walked 4,096 at a time (about 50 blocks)."""
    values, phase, error, novel, confident = stream(200_000, 2, ties=True)
    got = ranked(values, phase, error, novel, confident, 4096)
    for p in ("pre", "drift", "post"):
        m = phase == p
        assert got.auroc[p]["mistake"] == pytest.approx(roc_auc_score(error[m], values[m]), abs=1e-12)
        assert got.auroc[p]["novel"] == pytest.approx(roc_auc_score(novel[m], values[m]), abs=1e-12)
    assert got.auroc["all"]["mistake"] == pytest.approx(roc_auc_score(error, values), abs=1e-12)
    assert got.auroc["all"]["mistake"] > 0.7  # the scores do rank the mistakes


def test_a_nan_score_makes_its_phases_auroc_nan_and_sorts_last_for_the_risk():
    values, phase, error, novel, confident = stream(600, 3, ties=False)
    values[450] = np.nan  # in "post"
    auroc, risk = by_phase(values, phase, error, novel, confident)
    got = ranked(values, phase, error, novel, confident, 50)
    assert math.isnan(got.auroc["post"]["mistake"]) and math.isnan(got.auroc["all"]["novel"])
    assert got.auroc["pre"]["mistake"] == auroc["pre"]["mistake"] and not math.isnan(auroc["pre"]["mistake"])
    for p in risk:
        assert all(same(a, b) for c in COVERAGES for a, b in zip(got.risk[p][c], risk[p][c])), p


def test_ties_are_broken_by_time_order_for_the_risk_and_count_half_for_the_auroc():
    values = np.array([0.5, 0.5, 0.5, 0.5, 0.1, 0.9])
    error = np.array([True, False, False, True, False, True])
    got = rank_score(values, {"all": None}, {"mistake": error}, error, error, (0.5, 1 / 6), block=2)
    # the lowest three: 0.1 (no error), then the first two 0.5s in time order (error, none): 1 of 3
    assert got.risk["all"][0.5] == (1 / 3, 1 / 3)
    assert got.risk["all"][1 / 6] == (0.0, 0.0)
    # positives 0.5, 0.5, 0.9 against negatives 0.1, 0.5, 0.5: (3 + 2 * (1 + 0.5 + 0.5)) / 9
    assert got.auroc["all"]["mistake"] == 7 / 9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=2, max_size=60), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_one_sort_equals_the_definitions_on_any_small_stream(levels, block, seed):
    rng = np.random.default_rng(seed)
    values = np.array(levels, dtype=float) / 4
    n = len(values)
    phase = np.array(["pre", "drift", "post"])[rng.integers(0, 3, n)]
    error, novel = rng.random(n) < 0.4, rng.random(n) < 0.3
    confident = error & (rng.random(n) < 0.5)
    auroc, risk = by_phase(values, phase, error, novel, confident)
    masks = {p: phase == p for p in ("pre", "drift", "post") if (phase == p).any()}
    got = rank_score(values, {**masks, "all": None}, {"novel": novel, "mistake": error}, error, confident,
                     COVERAGES, block=block)
    for p in got.auroc:
        assert all(same(got.auroc[p][t], auroc[p][t]) for t in ("novel", "mistake")), p
        assert got.risk[p] == risk[p], p


# ---- the MMD's median and kernel ----------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 64, 65, 4097, 405_450])
@pytest.mark.parametrize("kind", ["distinct", "ties", "constant"])
def test_lower_median_equals_torch_median(n, kind):
    rng = np.random.default_rng([n, 3])
    values = {"distinct": rng.exponential(size=n), "ties": np.round(rng.normal(size=n)),
              "constant": np.full(n, 2.5)}[kind]
    assert shift.lower_median(values) == float(torch.from_numpy(values).median())


def test_lower_median_of_a_sample_that_misses_the_middle():
    """Every 64th value far from the middle: the bracket misses and the whole partial sort answers."""
    values = np.arange(6400, dtype=float)
    values[::64] = 1e9
    assert shift.lower_median(values) == float(torch.from_numpy(values).median())


def plain_mmd(reference, window, *, n_permutations, rng):
    """The MMD permutation test written plainly: torch's median of the pairs, the kernel as one
    expression, one rng.shuffle per permutation."""
    Z = torch.as_tensor(np.vstack([reference, window]), dtype=torch.float64)
    m, n = len(reference), len(window)
    distances = torch.cdist(Z, Z)
    rows, cols = torch.triu_indices(len(distances), len(distances), offset=1)
    median = float(distances[rows, cols].median())
    sigma = median if median > 0 else 1.0
    K = torch.exp(-distances.square() / (2 * sigma**2))
    labels = np.zeros((n_permutations + 1, m + n), dtype=bool)
    labels[:, m:] = True
    for row in labels[1:]:
        rng.shuffle(row)
    W = torch.as_tensor(np.where(labels, -1.0 / n, 1.0 / m).T)
    values = ((K @ W) * W).sum(dim=0).numpy()
    return float(values[0]), float((1 + np.sum(values[1:] >= values[0] - 1e-12)) / (1 + n_permutations))


@pytest.mark.parametrize("m, n, d", [(500, 400, 10), (500, 137, 3), (20, 5, 1)])
def test_mmd_gives_the_numbers_of_the_plain_formula_bit_for_bit(m, n, d):
    rng = np.random.default_rng([m, n, d])
    reference, window = rng.normal(size=(m, d)), rng.normal(size=(n, d)) + 0.1
    for shift_by in (0.0, 0.1):
        got = shift.mmd_permutation(reference, window + shift_by, n_permutations=100, rng=np.random.default_rng(5))
        plain = plain_mmd(reference, window + shift_by, n_permutations=100, rng=np.random.default_rng(5))
        assert got == plain


# ---- the Mahalanobis score ----------------------------------------------------------------------


def test_mahalanobis_in_row_blocks_equals_the_einsum_definition():
    rng = np.random.default_rng([11, 3])
    features = np.maximum(rng.normal(size=(1000, 16)), 0)
    features[::5] = features[3]  # identical rows at many positions of the blocks: identical scores
    gaussians = novelty.fit_class_gaussians(features, rng.integers(0, 3, 1000), 3)
    outputs = novelty.Outputs(np.zeros((1000, 3)), np.zeros((1000, 3)), features)
    diff = features[:, None, :] - gaussians.means[None, :, :]
    expected = np.einsum("nkh,hg,nkg->nk", diff, gaussians.precision, diff).min(axis=1)
    whole = novelty.mahalanobis(outputs, gaussians, rows=4096)
    np.testing.assert_allclose(whole, expected, rtol=1e-12)
    # blocks of 7 rows end mid-stream and hold a last block of 6: every row scored once, by its own block;
    # equal up to round-off only, since BLAS may sum a 7-row product in another order than a 1000-row one
    np.testing.assert_allclose(novelty.mahalanobis(outputs, gaussians, rows=7), expected, rtol=1e-12)
    assert (whole[::5] == whole[3]).all()


def test_permuted_rows_draw_what_a_shuffle_per_row_draws():
    """The MMD relabels its pooled sample with one ``Generator.permuted`` call over the rows: the same
    relabellings as one ``shuffle`` per row, so the p-values of earlier runs stand."""
    labels = np.zeros((101, 900), dtype=bool)
    labels[:, 500:] = True
    shuffled, permuted = labels.copy(), labels.copy()
    rng = np.random.default_rng([0, 2, 7])
    for row in shuffled[1:]:
        rng.shuffle(row)
    np.random.default_rng([0, 2, 7]).permuted(permuted[1:], axis=1, out=permuted[1:])
    np.testing.assert_array_equal(permuted, shuffled)
    assert not (permuted[1:] == permuted[0]).all(axis=1).any()


def test_a_nan_distance_gives_the_bandwidth_of_one_as_torch_median_would():
    distances = torch.tensor([[0.0, 2.0, np.nan], [2.0, 0.0, 3.0], [np.nan, 3.0, 0.0]], dtype=torch.float64)
    assert math.isnan(float(distances[0, 1:].median()))  # torch's median: NaN, which is not > 0
    assert shift.median_bandwidth(distances) == 1.0
    assert shift.median_bandwidth(distances.nan_to_num(4.0)) == 3.0
