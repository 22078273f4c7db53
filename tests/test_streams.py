"""The stream contract, for every family x kind x pattern it supports (small cases, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.streams_cases import CASES, N_DEPLOY, ONSET, PERIOD, WIDTH, data

ids = [f"{f}-{k}-{p}" for f, k, p in CASES]


@pytest.mark.parametrize(("family", "kind", "pattern"), CASES, ids=ids)
def test_replays_identically_and_has_the_contract_shapes(family, kind, pattern):
    stream, offline, deploy = data(family, kind, pattern)
    again_offline, again_deploy = stream.offline(), stream.deploy()
    pairs = [(offline.X_train, again_offline.X_train), (offline.y_val, again_offline.y_val),
             (deploy.X, again_deploy.X), (deploy.y, again_deploy.y), (deploy.novel, again_deploy.novel)]  # fmt: skip
    for a, b in pairs:
        np.testing.assert_array_equal(a, b)
    d, k = stream.n_features, stream.n_classes
    # the source's precision: float32 where the family draws float32 itself, float64 from River's generators
    expected = np.float32 if family in ("teacher", "gaussian_classes", "prompts") else np.float64
    assert offline.X_train.dtype == offline.X_val.dtype == deploy.X.dtype == expected
    assert offline.y_train.dtype == deploy.y.dtype == deploy.t.dtype == np.int64
    assert len(offline.y_train) + len(offline.y_val) == stream.n_offline
    assert offline.X_train.shape == (len(offline.y_train), d) and deploy.X.shape == (N_DEPLOY, d)
    for y in (offline.y_train, offline.y_val, deploy.y):
        assert y.min() >= 0 and y.max() < k
    assert np.isfinite(deploy.X).all() and np.isfinite(offline.X_train).all()
    np.testing.assert_array_equal(deploy.t, np.arange(N_DEPLOY))
    assert deploy.novel.dtype == bool and (deploy.novel.any() == (kind == "novel" and pattern != "none"))


@pytest.mark.parametrize(("family", "kind", "pattern"), CASES, ids=ids)
def test_phases_and_progress_follow_the_schedule(family, kind, pattern):
    stream, _, deploy = data(family, kind, pattern)
    t = np.arange(N_DEPLOY)
    width = {"sudden": 0, "none": 0}.get(pattern, WIDTH)
    expected_phase = np.where(t < ONSET, "pre", np.where(t < ONSET + width, "drift", "post"))
    np.testing.assert_array_equal(deploy.phase, expected_phase)
    progress = deploy.drift_progress
    assert progress.min() >= 0 and progress.max() <= 1 and (progress[t < ONSET] == 0).all()
    if pattern == "none":
        assert (progress == 0).all()
    elif pattern in ("gradual", "incremental"):
        np.testing.assert_allclose(progress, np.clip((t - ONSET) / WIDTH, 0, 1))
    elif pattern == "sudden":
        np.testing.assert_array_equal(progress, (t >= ONSET).astype(float))
    else:  # recurring, gradual switches of WIDTH samples every PERIOD samples
        assert WIDTH < PERIOD and ONSET + 2 * PERIOD >= N_DEPLOY
        np.testing.assert_allclose(progress[ONSET + WIDTH : ONSET + PERIOD], 1.0)
        np.testing.assert_allclose(progress[ONSET + PERIOD + WIDTH :], 0.0)
        assert progress[ONSET + WIDTH // 2] == pytest.approx(0.5, abs=0.01)
        assert progress[ONSET + PERIOD + WIDTH // 2] == pytest.approx(0.5, abs=0.01)
    schedule = stream.describe()["schedule"]
    points = {"none": [], "recurring": list(range(ONSET, N_DEPLOY, PERIOD))}.get(pattern, [ONSET])
    assert schedule["change_points"] == points and schedule["pattern"] == pattern


@pytest.mark.parametrize("family", sorted({f for f, _, _ in CASES}))
def test_a_different_seed_gives_different_data(family):
    _, offline, deploy = data(family, "none", "none", seed=0)
    _, offline_1, deploy_1 = data(family, "none", "none", seed=1)
    assert not np.array_equal(offline.X_train, offline_1.X_train)
    assert not np.array_equal(deploy.X, deploy_1.X)


@pytest.mark.parametrize(("family", "kind"), sorted({(f, k) for f, k, _ in CASES if k != "none"}))
def test_severity_zero_is_the_undrifted_stream(family, kind):
    """Severity 0 draws exactly the stream of kind ``none`` (the same random numbers, no change); a
    real-data covariate experiment differs by its biased offline sample, so it is compared with the
    same experiment without drift."""
    real_covariate = kind == "covariate" and family in ("phishing", "bananas")
    reference = ("covariate", "none") if real_covariate else ("none", "sudden")
    _, _, still = data(family, *reference)
    _, _, zero = data(family, kind, "sudden", severity=0.0)
    np.testing.assert_array_equal(zero.X, still.X)
    np.testing.assert_array_equal(zero.y, still.y)
    assert not zero.novel.any() and (zero.drift_progress == 0).all()
