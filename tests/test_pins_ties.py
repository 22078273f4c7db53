"""Values exactly at a boundary, computed by hand: a confidence equal to the threshold ``tau`` or to a
bin edge ``k/15``, the first and last sample of a drift, a detection exactly ``max_delay`` after a
drift's end. The block-wise tally (:class:`harness.scores.tally.Sums`) and the metric functions must agree
with each other and with the hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.scores import metrics
from harness.scores.detection import detection_scores, schedule_drifts
from harness.scores.tally import Sums, blocks
from harness.streams.base import DriftSchedule
from harness.validation.errors import ConfigError

# four samples, two classes: predictions 0, 1, 0 (a tie: lowest index), 0; correct: no, yes, no, yes
Y = np.array([1, 1, 1, 0])
P = np.array([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5], [0.7, 0.3]])
HAND = {
    "n": 4,
    "accuracy": 0.5,
    "mean_confidence": 0.75,
    "brier": (1.62 + 0.02 + 0.5 + 0.18) / 4,
    "nll": -(math.log(0.1) + math.log(0.9) + math.log(0.5) + math.log(0.7)) / 4,
    "confident_error_rate": 0.25,  # only the first: confidence 0.9 >= tau = 0.9
    "confident_error_share": 0.5,  # of the two mistakes
    # bins 13 (0.9, 0.9: accuracy 1/2), 7 (0.5: 0), 10 (0.7: 1)
    "ece": 0.5 * 0.4 + 0.25 * 0.5 + 0.25 * 0.3,
}
FUNCTIONS = {
    "accuracy": metrics.accuracy_score,
    "mean_confidence": metrics.mean_confidence,
    "brier": metrics.brier_loss,
    "nll": metrics.nll_loss,
    "confident_error_rate": lambda y, p: metrics.confident_error_rate(y, p, tau=0.9),
    "confident_error_share": lambda y, p: metrics.confident_error_share(y, p, tau=0.9),
    "ece": metrics.ece_error,
}


def tallied(y, proba, tau=0.9, split=None) -> dict:
    sums = Sums()
    for part in np.array_split(np.arange(len(y)), split or 1):
        sums.add(y[part], proba[part], tau=tau)
    return sums.scores()


@pytest.mark.parametrize("split", [1, 3])
def test_tally_and_metric_functions_give_the_hand_computed_scores(split):
    scores = tallied(Y, P, split=split)
    assert scores["n"] == 4
    for name, hand in HAND.items():
        assert scores[name] == pytest.approx(hand, abs=1e-12), name
        if name in FUNCTIONS:
            assert FUNCTIONS[name](Y, P) == pytest.approx(hand, abs=1e-12), name


def test_a_confident_error_counts_at_tau_exactly_and_not_just_below():
    below = np.nextafter(0.9, 0.0)
    proba = np.array([[0.9, 0.1], [below, 1 - below], [0.9, 0.1]])
    y = np.array([1, 1, 0])
    scores = tallied(y, proba)
    assert scores["confident_error_rate"] == 1 / 3 and scores["confident_error_share"] == 0.5
    assert metrics.confident_error_rate(y, proba, tau=0.9) == 1 / 3
    assert metrics.confident_error_share(y, proba, tau=0.9) == 0.5
    assert tallied(y, proba, tau=below)["confident_error_rate"] == 2 / 3
    acc, count = metrics.accuracy_above(y, proba, [0.9, below, 0.95])
    assert count.tolist() == [2, 3, 0] and acc[0] == 0.5 and acc[1] == 1 / 3 and np.isnan(acc[2])


def test_a_confidence_at_a_bin_edge_lands_in_the_lower_bin():
    edges = np.arange(16) / 15  # k/15 as a user writes it
    assert metrics.confidence_bins(edges).tolist() == [0] + list(range(15))
    above = np.nextafter(edges[:-1], 1.0)
    assert metrics.confidence_bins(above).tolist() == list(range(15))
    assert metrics.confidence_bins(np.array([1.0, np.nextafter(1.0, 0.0)])).tolist() == [14, 14]


def test_ece_with_confidences_on_either_side_of_an_edge():
    """8/15 (bin 7, right) and just above it (bin 8, wrong): two bins, each off by about 1/2."""
    c = 8 / 15
    up = np.nextafter(c, 1.0)
    proba = np.array([[c, 1 - c], [up, 1 - up]])
    y = np.array([0, 1])
    hand = 0.5 * (1 - c) + 0.5 * up
    assert metrics.ece_error(y, proba) == pytest.approx(hand, abs=1e-12)
    assert tallied(y, proba)["ece"] == pytest.approx(hand, abs=1e-12)
    conf, acc, n = metrics.reliability_bins(y, proba)
    assert n[7] == n[8] == 1 and n.sum() == 2 and acc[7] == 1.0 and acc[8] == 0.0 and conf[7] == c


def test_nll_clips_a_zero_probability_and_empty_groups_are_nan():
    proba, y = np.array([[1.0, 0.0]]), np.array([1])
    assert metrics.nll_loss(y, proba) == pytest.approx(-math.log(1e-15))
    assert tallied(y, proba)["nll"] == pytest.approx(-math.log(1e-15))
    above_one = np.array([[np.nextafter(1.0, 2.0), 0.0]])  # float round-off above 1: no negative loss
    assert tallied(np.array([0]), above_one)["nll"] == 0.0 == metrics.nll_loss([0], above_one)
    empty = Sums().scores()
    assert list(empty) == list(tallied(Y, P))  # the same scores, in the same order
    assert empty["n"] == 0 and all(math.isnan(v) for k, v in empty.items() if k != "n")
    assert math.isnan(tallied(np.array([0]), np.array([[0.8, 0.2]]))["confident_error_share"])  # no mistake


def test_blocks_are_whole_windows():
    assert blocks(0) == []
    assert blocks(65_537) == [(0, 65_536), (65_536, 65_537)]  # window 1 by default: BLOCK itself
    assert blocks(10, window=4) == [(0, 10)]
    assert blocks(200_000, window=500) == [(0, 65_500 + 500), (66_000, 132_000), (132_000, 198_000), (198_000, 200_000)]


T = np.array([9, 10, 13, 14, 15])  # onset - 1, onset, onset + width - 1, onset + width, after


@pytest.mark.parametrize("pattern", ["gradual", "incremental"])
def test_a_ramp_starts_at_onset_and_ends_at_onset_plus_width(pattern):
    schedule = DriftSchedule("concept", pattern, 1.0, 10, 4)
    assert schedule.progress(T).tolist() == [0.0, 0.0, 0.75, 1.0, 1.0]
    assert schedule.phase(T).tolist() == ["pre", "drift", "drift", "post", "post"]
    assert schedule.change_points(30) == [10]


def test_a_sudden_drift_has_no_drift_phase():
    schedule = DriftSchedule("concept", "sudden", 1.0, 10, 4)  # the width is set to 0
    assert schedule.width == 0
    assert schedule.progress(T).tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert schedule.phase(T).tolist() == ["pre", "post", "post", "post", "post"]
    none = DriftSchedule("none", "none", 1.0, 10, 0)
    assert none.progress(T).tolist() == [0.0] * 5 and none.phase(T).tolist() == ["pre", "post", "post", "post", "post"]
    assert none.change_points(30) == []
    assert DriftSchedule("concept", "gradual", 0.0, 10, 4).progress(T).tolist() == [0.0] * 5


def test_recurring_switches_at_every_period():
    sudden = DriftSchedule("concept", "recurring", 1.0, 10, 0, period=5)
    t = np.arange(9, 22)
    assert sudden.progress(t).tolist() == [0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1]
    assert sudden.change_points(25) == [10, 15, 20] and sudden.change_points(26) == [10, 15, 20, 25]
    ramp = DriftSchedule("concept", "recurring", 1.0, 10, 2, period=5, transition="gradual")
    assert ramp.progress(t).tolist() == [0, 0, 0.5, 1, 1, 1, 1, 0.5, 0, 0, 0, 0, 0.5]
    assert ramp.phase(np.array([9, 10, 11, 12])).tolist() == ["pre", "drift", "drift", "post"]


def test_amount_is_progress_or_a_draw_with_that_chance():
    t = np.arange(8, 16)
    incremental = DriftSchedule("concept", "incremental", 1.0, 10, 4)
    assert incremental.amount(t, np.random.default_rng(0)).tolist() == incremental.progress(t).tolist()
    gradual = DriftSchedule("concept", "gradual", 1.0, 10, 4)
    rng = np.random.default_rng(1)
    uniform = np.random.default_rng(1).random(len(t))
    assert gradual.amount(t, rng).tolist() == (uniform < gradual.progress(t)).astype(float).tolist()


@pytest.mark.parametrize("fields, n, ok", [
    (dict(pattern="gradual", onset=10, width=4), 14, True),  # ends at the last sample
    (dict(pattern="gradual", onset=10, width=4), 13, False),
    (dict(pattern="sudden", onset=12, width=0), 13, True),
    (dict(pattern="sudden", onset=13, width=0), 13, False),
    (dict(pattern="gradual", onset=0, width=1), 13, True),
    (dict(pattern="gradual", onset=0, width=0), 13, False),
    (dict(pattern="recurring", onset=10, width=0, period=4), 15, True),  # recurs at 14, the last sample
    (dict(pattern="recurring", onset=10, width=0, period=5), 15, False),
    (dict(pattern="recurring", onset=0, width=3, period=3, transition="gradual"), 15, True),
    (dict(pattern="recurring", onset=0, width=3, period=2, transition="gradual"), 15, False),
    (dict(pattern="recurring", onset=0, width=0, period=0), 15, False),
])
def test_schedule_check_at_its_boundaries(fields, n, ok):
    schedule = DriftSchedule("concept", severity=1.0, **fields)
    if ok:
        schedule.check(n)
    else:
        with pytest.raises(ConfigError):
            schedule.check(n)


def scores(detections, drifts, max_delay):
    out = detection_scores(detections, drifts, max_delay=max_delay)
    return out["true_detections"], out["false_alarms"], out["missed_drifts"], out["mean_detection_delay"]


def test_a_detection_exactly_max_delay_after_the_end_is_true_one_later_is_false():
    drift = [(10, 14)]
    assert scores([19], drift, 5) == (1, 0, 0, 9.0)
    assert scores([20], drift, 5)[:3] == (0, 1, 1)
    assert scores([10], drift, 5) == (1, 0, 0, 0.0)  # at the start
    assert scores([9], drift, 5)[:3] == (0, 1, 1)  # before it: never true
    assert scores([14], drift, 0) == (1, 0, 0, 4.0)
    assert scores([12, 11, 30], drift, 5) == (2, 1, 0, 1.0)  # the first detection gives the delay


def test_the_window_of_a_drift_ends_before_the_next_drift_starts():
    drifts = [(10, 10), (20, 20)]
    assert scores([19, 20], drifts, 100) == (2, 0, 0, 4.5)  # delays 9 and 0
    assert scores([20], drifts, 100) == (1, 0, 1, 0.0)  # 20 belongs to the second drift only
    assert scores([], drifts, 100)[2] == 2
    out = detection_scores([5, 19], drifts, max_delay=3)
    assert out == {"n_drifts": 2, "n_detections": 2, "true_detections": 0, "false_alarms": 2, "missed_drifts": 2,
                   "mean_detection_delay": out["mean_detection_delay"]} and math.isnan(out["mean_detection_delay"])
    with pytest.raises(ValueError):
        detection_scores([1], drifts, max_delay=-1)
    assert detection_scores([1], drifts, max_delay=0)["false_alarms"] == 1


def test_schedule_drifts_are_the_change_points_with_their_width():
    assert schedule_drifts(DriftSchedule("concept", "gradual", 1.0, 10, 4), 30) == [(10, 14)]
    assert schedule_drifts(DriftSchedule("concept", "gradual", 0.0, 10, 4), 30) == []
    ramp = DriftSchedule("concept", "recurring", 1.0, 10, 2, period=5, transition="gradual")
    assert schedule_drifts(ramp, 21) == [(10, 12), (15, 17), (20, 22)]
    assert schedule_drifts(DriftSchedule("none", "none", 1.0, 10, 0), 30) == []


def test_trailing_error_and_recovery_at_their_boundaries():
    out = metrics.trailing_error([1, 0, 0, 1, 1], 3)
    assert np.isnan(out[:2]).all() and out[2:].tolist() == pytest.approx([1 / 3, 1 / 3, 2 / 3], abs=1e-15)
    assert metrics.trailing_error([1, 1, 0], 3)[2] == pytest.approx(2 / 3)  # a window as long as the errors
    assert np.isnan(metrics.trailing_error([1, 1], 3)).all()
    assert metrics.trailing_error([0, 0, 1], 1).tolist() == [0.0, 0.0, 1.0]
    # the trailing error reaches baseline + tolerance exactly (0.5): that window counts as recovered
    assert metrics.recovery_samples([1, 1, 0, 0], start=0, baseline=0.25, window=2, tolerance=0.25) == 3.0
    assert metrics.recovery_samples([0, 0, 1, 1, 0, 0], start=2, baseline=0.0, window=2, tolerance=0.0) == 4.0
    assert math.isnan(metrics.recovery_samples([1, 1, 1], start=1, baseline=0.0, window=2, tolerance=0.4))


def test_three_drifts_each_window_cut_at_the_next_start():
    drifts = [(10, 14), (20, 24), (30, 30)]
    assert scores([21], drifts, 100) == (1, 0, 2, 1.0)  # the second drift's only: the first's ends at 19
    assert scores([19, 25, 31], drifts, 100) == (3, 0, 0, (9 + 5 + 1) / 3)
    assert scores([14.5], [(10, 14)], 0)[:3] == (1, 0, 0)  # a time is an integer sample index


def test_unknown_drifts_count_detections_only_and_a_negative_max_delay_is_refused():
    assert detection_scores([3, 1], None, max_delay=5) == {
        "n_drifts": None, "true_detections": None, "false_alarms": None, "missed_drifts": None,
        "mean_detection_delay": None, "n_detections": 2,
    }
    with pytest.raises(ValueError, match="max_delay=-1 must be >= 0"):
        detection_scores([], [], max_delay=-1)
