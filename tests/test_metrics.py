"""Metrics against cases computed by hand."""

import math
import warnings

import numpy as np
import pytest

from harness.scores import metrics


def test_argmax_ties_take_the_lowest_index():
    y_pred, confidence = metrics.predict([[0.4, 0.4, 0.2], [0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    assert y_pred.tolist() == [0, 2, 0]
    assert confidence.tolist() == [0.4, 0.5, 1 / 3]
    assert metrics.accuracy_score([1, 2, 2], [[0.4, 0.4, 0.2], [0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]]) == 1 / 3


def test_ece_by_hand_with_bin_edges():
    # Bins are (k/15, (k+1)/15]; 2/15 sits on an edge and belongs to the bin below it, with 0.1.
    proba = np.array([[0.1, 0.9], [0.9, 0.1], [2 / 15, 1 - 2 / 15], [1.0, 0.0]])
    y = np.array([1, 1, 1, 0])
    # sample 0: conf 0.9 right; sample 1: conf 0.9 wrong -> bin (13/15, 14/15]: acc 0.5, conf 0.9
    # sample 2: conf 13/15 right -> bin (12/15, 13/15]: acc 1, conf 13/15; sample 3: conf 1 right
    expected = 2 / 4 * abs(0.5 - 0.9) + 1 / 4 * abs(1 - 13 / 15) + 1 / 4 * 0.0
    assert metrics.ece_error(y, proba) == pytest.approx(expected)


def test_ece_edge_goes_to_the_lower_bin():
    # Two samples at confidence exactly 0.6 (= 9/15) and 0.6 + 1e-9: different bins, each |acc - conf|.
    proba = np.array([[0.6, 0.4], [0.6 + 1e-9, 0.4 - 1e-9]])
    y = np.array([0, 1])
    same_bin = abs(0.5 - 0.6)  # what a single bin would give
    separate = 0.5 * abs(1 - 0.6) + 0.5 * abs(0 - (0.6 + 1e-9))
    assert metrics.ece_error(y, proba) == pytest.approx(separate)
    assert metrics.ece_error(y, proba) != pytest.approx(same_bin)


def test_ece_of_zero_confidence_lands_in_first_bin():
    # A degenerate all-zero row: confidence 0, argmax 0; counts in bin 0 without error.
    assert metrics.ece_error([1], [[0.0, 0.0]]) == pytest.approx(0.0)
    assert metrics.ece_error([0], [[0.0, 0.0]]) == pytest.approx(1.0)


def test_brier_sums_over_classes_without_dividing():
    proba = [[0.5, 0.3, 0.2], [0.0, 0.0, 1.0]]
    # label 0: (0.5 - 1)^2 + 0.3^2 + 0.2^2 = 0.38; label 1: 0 + (0 - 1)^2 + 1^2 = 2 -> mean 1.19
    assert metrics.brier_loss([0, 1], proba) == pytest.approx(1.19)


def test_nll_clips_zero_probabilities():
    assert metrics.nll_loss([1], [[1.0, 0.0]]) == pytest.approx(-math.log(1e-15))
    assert metrics.nll_loss([0, 0], [[0.5, 0.5], [0.25, 0.75]]) == pytest.approx((math.log(2) + math.log(4)) / 2)


def test_confident_errors_at_threshold_count():
    proba = [[0.1, 0.9], [0.2, 0.8], [0.95, 0.05], [0.5, 0.5]]
    y = [0, 0, 0, 1]
    # wrong: samples 0 (conf 0.9, counts: >= tau), 1 (0.8) and 3 (0.5, tie -> class 0)
    assert metrics.confident_error_rate(y, proba, tau=0.9) == pytest.approx(1 / 4)
    assert metrics.confident_error_share(y, proba, tau=0.9) == pytest.approx(1 / 3)
    assert metrics.confident_error_rate(y, proba, tau=0.5) == pytest.approx(3 / 4)
    assert math.isnan(metrics.confident_error_share([0], [[1.0, 0.0]]))


def test_recovery_needs_a_full_window_after_the_drift():
    errors = np.r_[np.zeros(10), np.ones(5), [1, 0, 0, 0, 0, 0]]
    # Drift ends at 10; windows of 3 ending at 17 ([16..17] plus 15) hold one error: 1/3 > 0.02.
    # First window of zeros ends at index 18 -> 18 + 1 - 10 = 9 samples.
    assert metrics.recovery_samples(errors, start=10, baseline=0.0, window=3, tolerance=0.02) == 9
    assert math.isnan(metrics.recovery_samples(np.ones(20), start=5, baseline=0.0, window=3, tolerance=0.1))


def test_bad_shapes_and_labels_are_refused():
    with pytest.raises(ValueError, match=r"shape \(n, K\)"):
        metrics.accuracy_score([0], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        metrics.accuracy_score([2], [[0.5, 0.5]])


SCORES = [metrics.accuracy_score, metrics.ece_error, metrics.brier_loss, metrics.nll_loss, metrics.mean_confidence,
          metrics.confident_error_rate]


@pytest.mark.parametrize("score", SCORES, ids=lambda f: f.__name__)
def test_no_samples_score_nan(score):
    assert math.isnan(score(np.zeros(0, dtype=int), np.zeros((0, 3))))


def float32_probabilities(n: int = 2000, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Random labels and float32 probability rows (what a torch model serves)."""
    rng = np.random.default_rng([0, 32])
    proba = rng.dirichlet(np.ones(k), size=n).astype(np.float32)
    return rng.integers(0, k, size=n), proba


@pytest.mark.parametrize("score", SCORES, ids=lambda f: f.__name__)
def test_float32_probabilities_are_scored_in_float64(score):
    """The same value as the float64 copy, to the last bit: no sum or log runs in single precision."""
    y, proba = float32_probabilities()
    assert score(y, proba) == score(y, proba.astype(np.float64))


def test_predict_gives_float64_confidence_for_float32_probabilities():
    _, proba = float32_probabilities()
    y_pred, confidence = metrics.predict(proba)
    assert confidence.dtype == np.float64
    assert confidence.sum() == proba.astype(np.float64).max(axis=1).sum()  # summed in float64
    assert y_pred.tolist() == proba.argmax(axis=1).tolist()


def test_ece_uses_the_number_of_bins_it_is_given():
    # confidences 0.9 (right) and 0.8 (wrong): one bin (0.75, 1] of 2 bins -> |0.5 - 0.85|; 15 bins -> 0.45
    proba, y = [[0.9, 0.1], [0.8, 0.2]], [0, 1]
    assert metrics.ece_error(y, proba, n_bins=2) == pytest.approx(0.35)
    assert metrics.ece_error(y, proba) == pytest.approx(0.45)


def test_accuracy_above_a_threshold_that_one_prediction_reaches():
    # confidences 0.9 (right), 0.6 (wrong), 0.8 (right): at 0.85 one prediction, right; at 0.7 two, both right
    acc, count = metrics.accuracy_above([0, 0, 1], [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]], [0.85, 0.7, 0.95, 0.5])
    assert count.tolist() == [1, 2, 0, 3]
    np.testing.assert_array_equal(acc, [1.0, 1.0, np.nan, 2 / 3])


def test_empty_reliability_bins_are_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        confidence, accuracy, counts = metrics.reliability_bins([0, 1], [[0.9, 0.1], [0.8, 0.2]], n_bins=5)
    assert counts.tolist() == [0, 0, 0, 1, 1]
    assert np.isnan(confidence[:3]).all() and np.isnan(accuracy[:3]).all()
    assert confidence[3:].tolist() == [0.8, 0.9] and accuracy[3:].tolist() == [0.0, 1.0]


def test_labels_of_another_length_are_refused_with_both_lengths():
    with pytest.raises(ValueError, match=r"y_true must have shape \(2,\), got \(3,\)"):
        metrics.accuracy_score([0, 1, 2], [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]])
