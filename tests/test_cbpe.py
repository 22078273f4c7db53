"""CBPE against NannyML's own estimates on real runs of the harness, and its parts by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from harness.monitor.cbpe import CBPE, expected_calibration_error, needs_calibration
from harness.monitor.estimates import mean_confidence
from harness.monitor.watch import window_bounds

FIXTURE = Path(__file__).parent / "data" / "nannyml_cbpe"


def load(name: str):
    reference = pd.read_csv(FIXTURE / f"{name}_reference.csv")
    analysis = pd.read_csv(FIXTURE / f"{name}_analysis.csv")
    expected = pd.read_csv(FIXTURE / f"{name}_nannyml.csv")
    window = json.loads((FIXTURE / f"{name}_inputs.json").read_text())["window"]
    columns = [c for c in reference.columns if c.startswith("p_")]
    return reference[columns].to_numpy(), reference.y_true.to_numpy(), analysis[columns].to_numpy(), expected, window


@pytest.mark.parametrize("name", ["covariate", "binary"])
def test_cbpe_per_window_agrees_with_nannyml(name):
    val_proba, y_val, proba, expected, window = load(name)
    bounds = window_bounds(len(proba), window)
    assert [(a, b - 1) for a, b in bounds] == list(zip(expected.start_index, expected.end_index))
    cbpe = CBPE.fit(val_proba, y_val)
    ours = np.array([cbpe.estimate(proba[a:b]) for a, b in bounds])
    difference = np.abs(ours - expected.estimated_accuracy.to_numpy())
    assert difference.mean() < 0.01
    assert difference.max() < 1e-9  # the same isotonic regressions: equal to float precision
    # the control: the uncalibrated mean confidence is measurably not NannyML's CBPE here
    uncalibrated = np.array([mean_confidence(proba[a:b].max(axis=1)) for a, b in bounds])
    assert np.abs(uncalibrated - expected.estimated_accuracy.to_numpy()).mean() > 0.01


def test_cbpe_reads_the_calibrated_probability_of_the_predicted_class():
    # class 0's column calibrated to a constant 0.5 (an isotonic fit on two equal targets), others as they are
    to_half = IsotonicRegression(out_of_bounds="clip").fit([0.0, 1.0], [0.5, 0.5])
    cbpe = CBPE(3, (to_half, None, None))
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    # row 0: (0.5, 0.2, 0.1) / 0.8, predicted 0 -> 0.625; row 1: (0.5, 0.3, 0.6) / 1.4, predicted 2 -> 3/7
    assert cbpe.calibrate(proba) == pytest.approx(np.array([[0.625, 0.25, 0.125], [5 / 14, 3 / 14, 6 / 14]]))
    assert cbpe.estimate(proba) == pytest.approx((0.625 + 3 / 7) / 2)
    # the predicted class is the model's own argmax (0 in row 0), not the calibrated one's
    flips = CBPE(3, (IsotonicRegression(out_of_bounds="clip").fit([0.0, 1.0], [0.0, 0.0]), None, None))
    assert flips.estimate(np.array([[0.5, 0.3, 0.2]])) == pytest.approx(0.0)


def test_binary_cbpe_calibrates_the_positive_class_only():
    to_point_nine = IsotonicRegression(out_of_bounds="clip").fit([0.0, 1.0], [0.9, 0.9])
    cbpe = CBPE(2, (to_point_nine,))
    proba = np.array([[0.8, 0.2], [0.3, 0.7]])
    # calibrated P(class 1) = 0.9 in both rows: predicted 0 -> 0.1, predicted 1 -> 0.9
    assert cbpe.calibrate(proba) == pytest.approx(np.array([[0.1, 0.9], [0.1, 0.9]]))
    assert cbpe.estimate(proba) == pytest.approx(0.5)


def test_calibration_is_skipped_where_nannyml_skips_it():
    rng = np.random.default_rng(0)
    score = rng.random(400)
    assert not needs_calibration(np.zeros(400, int), score)  # a class absent from the reference
    assert not needs_calibration((score > 0.5).astype(int), score)  # separated already (AUROC 1)
    overconfident = (rng.random(400) < 0.5 + 0.2 * (score - 0.5)).astype(int)  # truth far flatter than score
    assert needs_calibration(overconfident, score)
    # too few to split (NannyML raises here): a class seen once, or fewer than 20 samples
    assert not needs_calibration(np.r_[1, np.zeros(399, int)], score)
    assert not needs_calibration(overconfident[:19], score[:19])
    # a missing class gets no calibrator; the others are fitted
    y = rng.integers(0, 2, 400)
    proba = np.column_stack([score, 1 - score, np.zeros(400)])
    fitted = CBPE.fit(proba, y)
    assert fitted.calibrators[2] is None


def test_expected_calibration_error_by_hand():
    score, truth = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9]), np.array([0, 0, 1, 1, 1, 1])
    # 6 scores <= 2 x 10 bins: NannyML uses 6 // 2 = 3 bins of 2 -> |0.15 - 0|, |0.45 - 1|, |0.8 - 1|, weight 1/3
    assert expected_calibration_error(truth, score) == pytest.approx((0.15 + 0.55 + 0.2) / 3)
