"""``model=pretrained``: the researcher's own model is served as it is, hashed as the file holds it,
calibrated only when asked, and is where the strategies that learn start from."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from scipy.special import log_softmax, softmax

from harness.offline.freeze import exported_proba
from harness.run import run
from harness.streams import build_stream
from tests import preloaded, user_models
from tests.conftest import TINY, compose_config

FEATURES = [f"x_{i}" for i in range(user_models.N_FEATURES)]
PROBA = [f"p_{k}" for k in range(user_models.N_CLASSES)]


def state_sha256(state: dict) -> str:
    """SHA-256 over a state dict, entry by entry in name order: ``name:dtype:shape``, then the tensor's bytes."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def mine(tmp_path_factory):
    """The test's own model, trained on the tiny stream's offline training split (as a researcher's
    model would be, on their own data), exported as a program and saved as a state dict."""
    folder = tmp_path_factory.mktemp("mine")
    cfg = compose_config([])
    offline = build_stream(cfg.stream, cfg.drift, cfg.seed).offline()
    net = user_models.trained(user_models.mlp(), offline.X_train, offline.y_train, seed=7, epochs=200)
    user_models.export_program(net, folder / "mine.pt2")
    torch.save(net.state_dict(), folder / "mine_state.pt")
    return net, folder


def deploy_rows(out):
    deploy = pd.read_parquet(out / "stream_deploy.parquet").sort_values("t")
    return deploy[FEATURES].to_numpy(np.float32)


def served(out, strategy: str) -> np.ndarray:
    predictions = pd.read_parquet(out / "predictions.parquet").query("strategy == @strategy").sort_values("t")
    return predictions[PROBA].to_numpy()


def forward(net, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.tensor(X)).double().numpy()


@pytest.fixture(scope="module")
def as_is(mine, tmp_path_factory):
    """``model.path`` with ``offline.calibrate=false``: the program served as it is."""
    _, folder = mine
    out = tmp_path_factory.mktemp("as_is")
    cfg = compose_config(["model=pretrained", f"model.path={folder / 'mine.pt2'}", "offline.calibrate=false",
                          "save_stream=true", "strategy=[frozen,finetune]"])
    return run(cfg, out)


@pytest.mark.slow
def test_frozen_serves_exactly_the_users_forward_pass(mine, as_is):
    net, _ = mine
    out = as_is.output_dir
    expected = softmax(forward(net, deploy_rows(out)), axis=1)
    assert np.allclose(served(out, "frozen"), expected, atol=1e-6)
    assert as_is.result["frozen_model"]["temperature"] == 1.0


@pytest.mark.slow
def test_a_users_model_gets_the_stream_s_values_unless_standardize_is_asked(mine, as_is, tmp_path):
    net, folder = mine
    assert as_is.result["frozen_model"]["preprocessing"] == {"standardize": False}
    cfg = compose_config(["model=pretrained", f"model.path={folder / 'mine.pt2'}", "offline.calibrate=false",
                          "model.standardize=true", "save_stream=true", "strategy=[frozen]"])
    scaled = run(cfg, tmp_path / "scaled")
    offline = pd.read_parquet(scaled.output_dir / "stream_offline.parquet").query("split == 'train'")
    train = offline[FEATURES].to_numpy(np.float64)
    record = scaled.result["frozen_model"]["preprocessing"]
    np.testing.assert_allclose(record["mean"], train.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(record["std"], train.std(axis=0), rtol=1e-5)
    X = deploy_rows(scaled.output_dir)
    expected = softmax(forward(net, ((X - np.float32(record["mean"])) / np.float32(record["std"]))), axis=1)
    assert np.allclose(served(scaled.output_dir, "frozen"), expected, atol=1e-6)
    assert scaled.result["frozen_model"]["sha256_before"] == as_is.result["frozen_model"]["sha256_before"]


@pytest.mark.slow
def test_the_weight_hash_is_the_one_of_the_users_file(mine, as_is):
    _, folder = mine
    frozen_model = as_is.result["frozen_model"]
    expected = state_sha256(torch.load(folder / "mine_state.pt", weights_only=True))
    assert frozen_model["sha256_before"] == expected
    assert frozen_model["sha256_after"] == expected and frozen_model["unchanged"]
    assert frozen_model["file_sha256"] == hashlib.sha256((folder / "mine.pt2").read_bytes()).hexdigest()


@pytest.mark.slow
def test_no_search_is_recorded_as_none_and_nothing_is_cached(as_is):
    search = pd.read_csv(as_is.output_dir / "offline_search.csv")
    assert len(search) == 1
    assert search.loc[0, "state"] == "pretrained" and search.loc[0, "epochs"] == 0
    assert search[["lr", "batch_size", "weight_decay", "width"]].isna().all(axis=None)
    assert as_is.result["offline_cache"] == "off"


@pytest.mark.slow
def test_finetune_starts_from_the_users_weights(as_is):
    out = as_is.output_dir
    frozen, finetune = served(out, "frozen"), served(out, "finetune")
    first = as_is.result["config"]["strategy"]["finetune"]["batch_size"]  # predicted before the first step
    assert np.array_equal(finetune[:first], frozen[:first])
    assert not np.allclose(finetune[first:], frozen[first:], atol=1e-3)  # and then it learns


@pytest.mark.slow
def test_exported_artifact_serves_the_frozen_predictions(as_is):
    out = as_is.output_dir
    assert np.allclose(exported_proba(out / "frozen_model.pt2", deploy_rows(out)), served(out, "frozen"), atol=1e-6)


def validation_split(out) -> tuple[np.ndarray, np.ndarray]:
    offline = pd.read_parquet(out / "stream_offline.parquet").query("split == 'val'").sort_values("t")
    return offline[FEATURES].to_numpy(np.float32), offline["y"].to_numpy()


@pytest.mark.slow
def test_calibration_fits_a_temperature_on_log_probabilities_and_keeps_the_argmax(mine, tmp_path):
    """A probability model (its state dict and factory): the temperature minimises the validation NLL
    of ``softmax(log p / T)``, and the served classes are the model's own."""
    logits_net, folder = mine
    net = torch.nn.Sequential(logits_net, torch.nn.Softmax(dim=1))
    torch.save(net.state_dict(), tmp_path / "probs_state.pt")
    cfg = compose_config(["model=pretrained", "model._target_=tests.user_models.softmax_mlp",
                          f"model.weights={tmp_path / 'probs_state.pt'}", "model.outputs=probs",
                          "save_stream=true", "strategy=[frozen]"])
    result = run(cfg, tmp_path / "run").result
    temperature = result["frozen_model"]["temperature"]
    assert temperature != pytest.approx(1.0, abs=0.05) and 0.1 < temperature < 10  # not at a bound of the search

    X_val, y_val = validation_split(tmp_path / "run")
    log_p = np.log(forward(net, X_val))

    def nll(t: float) -> float:
        return -log_softmax(log_p / t, axis=1)[np.arange(len(y_val)), y_val].mean()

    assert nll(temperature) < min(nll(temperature * 1.05), nll(temperature / 1.05), nll(1.0))
    X = deploy_rows(tmp_path / "run")
    frozen = served(tmp_path / "run", "frozen")
    assert np.array_equal(frozen.argmax(axis=1), forward(net, X).argmax(axis=1))
    assert np.allclose(frozen, softmax(np.log(forward(net, X)) / temperature, axis=1), atol=1e-6)
    assert result["frozen_model"]["sha256_before"] == state_sha256(net.state_dict())


def test_retraining_starts_from_the_users_weights_and_the_ensemble_from_its_factory(mine, tmp_path):
    from harness.offline.user import load_user_model

    _, folder = mine
    cfg = compose_config(["model=pretrained", "model._target_=tests.user_models.mlp",
                          f"model.weights={folder / 'mine_state.pt'}"])
    user = load_user_model(cfg.model)
    own = state_sha256(torch.load(folder / "mine_state.pt", weights_only=True))
    start = user.start()
    assert state_sha256(start.model.state_dict()) == own
    assert all(p.requires_grad for p in start.parameters())
    torch.manual_seed(0)
    assert state_sha256(user.start(reinitialise=True).model.state_dict()) != own


@pytest.mark.slow
def test_retraining_strategies_run_on_a_users_factory_model(mine, tmp_path):
    _, folder = mine
    cfg = compose_config(["model=pretrained", "model._target_=tests.user_models.mlp",
                          f"model.weights={folder / 'mine_state.pt'}", "strategy=[frozen,retrain_periodic]",
                          "strategy.retrain_periodic.every=400", "strategy.retrain_periodic.max_epochs=5",
                          "save_stream=true"])
    outcome = run(cfg, tmp_path)
    assert outcome.costs.set_index("strategy").loc["retrain_periodic", "n_retrains"] == 1200 // 400
    frozen, retrained = served(tmp_path, "frozen"), served(tmp_path, "retrain_periodic")
    assert np.allclose(retrained[:400], frozen[:400], atol=1e-12)  # the user's model until the first retraining
    assert json.loads((tmp_path / "result.json").read_text())["frozen_model"]["source"].startswith("model._target_=")


@pytest.mark.slow
def test_a_file_torch_cannot_load_is_refused_from_the_command_line_without_a_traceback(mine, tmp_path):
    """torch logs a traceback of its own when ``torch.export.load`` fails; the user sees one line."""
    _, folder = mine
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "harness.run", "model=pretrained", f"model.path={folder / 'mine_state.pt'}",
               *TINY, f"hydra.run.dir={tmp_path / 'run'}"]
    done = preloaded.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"error: model.path='{folder / 'mine_state.pt'}' is not a torch.export program" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_finished_run_is_not_reused_once_the_model_file_has_changed(mine, tmp_path):
    """The config names the model file, not its content: a changed file makes the finished run a
    conflict (refused unless ``rerun=true``), not a run to skip."""
    from harness.results.store import run_state

    net, _ = mine
    path = user_models.export_program(net, tmp_path / "mine.pt2")
    cfg = compose_config(["model=pretrained", f"model.path={path}", "strategy=[frozen]", "monitor.enabled=false"])
    run(cfg, tmp_path / "run")
    asked = OmegaConf.to_container(cfg, resolve=True)
    assert run_state(tmp_path / "run", asked).state == "ok"
    user_models.export_program(user_models.mlp().eval(), path)  # other weights, same path
    changed = run_state(tmp_path / "run", asked)
    assert changed.state == "conflict" and f"the model file {path} as it was before it changed" in changed.message
