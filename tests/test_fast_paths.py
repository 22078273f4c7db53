"""The shortcuts of the hot paths give exactly what the plain paths give, and are taken."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from harness.offline.freeze import Pretrained
from harness.offline.models import Calibrated, Standardize, build_network, freeze, predict_proba, weights_sha256
from harness.strategies import netfit
from harness.streams import build_stream
from harness.validation import preflight as preflight_module
from harness.validation.preflight import PreflightCallback, preflight, task_config
from tests.conftest import TINY, compose_with_hydra

DRIFT = {"kind": "concept", "pattern": "sudden", "severity": 1.0, "onset": 50, "width": 0}


def network(kind: str, depth: int, *, seed: int = 0, scaled: bool = False) -> Calibrated:
    torch.manual_seed(seed)
    scaler = Standardize(np.arange(6) * 100.0, np.arange(1, 7) * 10.0) if scaled else None
    return freeze(Calibrated(build_network(kind, n_features=6, n_classes=3, width=16, depth=depth, scaler=scaler),
                             1.7))


@pytest.mark.parametrize(("kind", "depth"), [("mlp", 0), ("mlp", 1), ("mlp", 3), ("logistic", 0)])
@pytest.mark.parametrize("rows", [1, 7, 300])
@pytest.mark.parametrize("scaled", [False, True])
def test_predict_proba_equals_the_module_bit_for_bit(kind, depth, rows, scaled):
    """Also with the input scaler as first layer (inputs in other units: mean 0..500, std 10..60)."""
    module = network(kind, depth, scaled=scaled)
    X = np.random.default_rng(rows).normal(size=(rows, 6)).astype(np.float32)
    if scaled:
        X = X * np.arange(1, 7, dtype=np.float32) * 10 + np.arange(6, dtype=np.float32) * 100
    with torch.no_grad():
        expected = module(torch.as_tensor(X))
    assert torch.equal(predict_proba(module, X), expected)


def test_predict_proba_calls_any_other_module():
    module = freeze(Calibrated(nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)), 2.0))
    X = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.as_tensor(X))
    assert torch.equal(predict_proba(module, X), expected)


def test_predict_proba_follows_weights_changed_in_place():
    """Fine-tuning changes the parameters in place: the next prediction must see them."""
    module = network("mlp", 1)
    X = np.ones((1, 6), dtype=np.float32)
    before = predict_proba(module, X).clone()
    with torch.no_grad():
        module.net[0].bias += 1.0
        expected = module(torch.as_tensor(X))
    after = predict_proba(module, X)
    assert torch.equal(after, expected) and not torch.equal(after, before)


def teacher(seed: int, **params):
    return build_stream({"family": "teacher", "n_offline": 100, "n_deploy": 200, **params}, DRIFT, seed)


def test_teacher_is_computed_once_per_seed_and_cannot_be_changed():
    first, second = teacher(0), teacher(0)
    assert all(a is b for a, b in zip(first._teacher_params, second._teacher_params))
    assert not any(a is b for a, b in zip(first._teacher_params, teacher(1)._teacher_params))
    assert not np.array_equal(teacher(0, offline_majority=0.6)._teacher_params[3], first._teacher_params[3])
    with pytest.raises(ValueError, match="read-only"):
        first._teacher_params[3][0] = 1.0


def test_teacher_offsets_balance_the_classes_on_fresh_inputs():
    """Checked on draws the offsets never saw: each class near its prior (here 0.6, 0.2, 0.2)."""
    stream = teacher(4, offline_majority=0.6)
    x = np.random.default_rng(123).normal(size=(50_000, stream.n_features))
    shares = np.bincount(stream.teacher(x), minlength=3) / len(x)
    assert np.allclose(shares, [0.6, 0.2, 0.2], atol=0.015)


def pretrained_for(module: Calibrated) -> Pretrained:
    params = {"lr": 0.01, "batch_size": 32, "weight_decay": 0.0, "width": 16}
    return Pretrained(module, params, 1, "mlp", 1.0, weights_sha256(module), [])


def test_fit_network_once_trains_once_and_gives_what_training_gives():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(120, 6)).astype(np.float32), rng.integers(0, 3, size=120)
    args = (X[:90], y[:90], X[90:], y[90:])
    settings = {"pretrained": pretrained_for(network("mlp", 1)), "max_epochs": 4, "patience": 2,
                "calibrate": True, "seed": 11}
    trained, steps = netfit.fit_network(*args, **settings)
    entries = len(netfit._fitted)
    first, first_steps = netfit.fit_network_once(*args, **settings)
    stored = next(reversed(netfit._fitted.values()))
    second, second_steps = netfit.fit_network_once(*args, **settings)
    assert len(netfit._fitted) == entries + 1
    assert next(reversed(netfit._fitted.values())) is stored  # the second call found the first's network
    assert weights_sha256(first) == weights_sha256(second) == weights_sha256(trained)
    assert first_steps == second_steps == steps
    assert first is not second  # copies: no caller can change what another gets
    other, _ = netfit.fit_network_once(*args, **{**settings, "seed": 12})
    assert weights_sha256(other) != weights_sha256(first)


def test_fit_network_once_keeps_its_networks_in_the_offline_cache_for_other_processes(tmp_path):
    """A new process (its memory emptied) loads the stored network instead of training; a stored
    network that no longer matches its hash is set aside and trained again."""
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(120, 6)).astype(np.float32), rng.integers(0, 3, size=120)
    args = (X[:90], y[:90], X[90:], y[90:])
    pretrained = dataclasses.replace(pretrained_for(network("mlp", 1)), cache_dir=tmp_path)
    settings = {"pretrained": pretrained, "max_epochs": 4, "patience": 2, "calibrate": True, "seed": 13}
    trained, steps = netfit.fit_network(*args, **settings)
    first, _ = netfit.fit_network_once(*args, **settings)
    (stored,) = (tmp_path / "networks").glob("*.pt")
    assert weights_sha256(first) == weights_sha256(trained)

    # another process's entry, valid but of other weights: what is loaded is what is stored
    other, _ = netfit.fit_network(*args, **{**settings, "seed": 14})
    torch.save({"state": other.state_dict(), "steps": 5, "sha256": weights_sha256(other)}, stored)
    netfit._fitted.clear()
    loaded, loaded_steps = netfit.fit_network_once(*args, **settings)
    assert weights_sha256(loaded) == weights_sha256(other) and loaded_steps == 5
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())

    # damaged (another hash, truncated, not a record): set aside (not deleted) and fitted again
    for damage in (lambda: torch.save({"state": other.state_dict(), "steps": 5, "sha256": "0" * 64}, stored),
                   lambda: stored.write_bytes(b""), lambda: torch.save({"steps": 5}, stored)):
        damage()
        netfit._fitted.clear()
        again, again_steps = netfit.fit_network_once(*args, **settings)
        assert weights_sha256(again) == weights_sha256(trained) and again_steps == steps
    assert len(list(tmp_path.glob("networks/.corrupt-*"))) == 3 and stored.is_file()

    # no cache: nothing written
    netfit._fitted.clear()
    netfit.fit_network_once(*args, **{**settings, "pretrained": pretrained_for(network("mlp", 1)), "seed": 15})
    assert len(list((tmp_path / "networks").glob("*.pt"))) == 1


def hydra_config(*overrides: str):
    return compose_with_hydra([*TINY, *overrides])


def test_a_single_run_builds_its_stream_and_strategies_once():
    cfg = hydra_config("strategy=[frozen,river_logreg]")
    PreflightCallback().on_run_start(cfg)
    built = preflight_module._checked["built"][1]
    assert preflight(task_config(cfg)) is built  # the run takes what the callback built
    assert preflight(task_config(cfg)) is not built  # once only: a second run builds its own
    PreflightCallback().on_run_start(cfg)
    stale = preflight_module._checked["built"][1]
    other = preflight(task_config(hydra_config("strategy=[frozen,river_logreg]", "seed=1")))
    assert other is not stale and other[0].seed == 1  # another config never takes them


@pytest.mark.slow
def test_river_learners_warmed_twice_in_one_process_measure_and_answer_alike():
    """Jobs of a sweep share a worker process: the second must measure what the first did."""
    from harness.validation.checks import build_strategies
    from tests.conftest import compose_config

    cfg = compose_config(["strategy=[river_logreg,river_hat]", "seed=5"])
    offline = build_stream(dict(cfg.stream), dict(cfg.drift), 5).offline()
    first, second = build_strategies(cfg.strategy), build_strategies(cfg.strategy)
    X = offline.X_val[:50]
    for name in first:
        first[name].fit_offline(offline, None)
        second[name].fit_offline(offline, None)
        assert second[name].model_bytes() == first[name].model_bytes()
        assert np.array_equal(first[name].predict_proba(X), second[name].predict_proba(X))



def test_predict_proba_follows_a_replaced_network():
    module = network("mlp", 1)
    X = np.ones((2, 6), dtype=np.float32)
    predict_proba(module, X)  # the layers of the first network are looked up now
    module.net = network("mlp", 2, seed=3).net
    with torch.no_grad():
        expected = module(torch.as_tensor(X))
    assert torch.equal(predict_proba(module, X), expected)
