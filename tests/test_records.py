"""Records read back are checked field by field and against their hashes: missing keys, wrong types,
edited or forged numbers make them corrupt (redone, listed), never a traceback, never trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from harness.offline.cache import load, pretrain
from harness.pipeline.sweep import read_ledger
from harness.results.records import SEAL, digest, seal
from harness.results.store import config_fingerprint, run_state
from harness.strategies import netfit
from tests.helpers import make_data

CONFIG = Path(__file__).resolve().parents[1] / "conf" / "config.yaml"

SETTINGS = {"model_kind": "mlp", "depth": 1, "space": {"lr": [0.01], "batch_size": [32], "weight_decay": [0.0],
            "width": [8]}, "n_trials": 1, "sampler": "random", "pruner": "median", "max_epochs": 3, "patience": 2,
            "calibrate": True, "seed": 0, "standardize": False, "threads": 1}


@pytest.fixture
def entry(tmp_path):
    offline, _ = make_data()
    pretrain(offline, n_classes=3, settings=SETTINGS, cache_dir=tmp_path / "cache", export_to=tmp_path / "m.pt2")
    (found,) = (tmp_path / "cache").iterdir()
    return found, offline


def rewrite(entry, change, *, reseal: bool):
    record = json.loads((entry / "entry.json").read_text())
    change(record)
    (entry / "entry.json").write_text(json.dumps(seal(record) if reseal else record))


@pytest.mark.slow
def test_a_genuine_entry_loads_and_is_sealed(entry):
    folder, offline = entry
    record = json.loads((folder / "entry.json").read_text())
    assert record[SEAL] == digest(record)
    assert load(folder, offline.X_train.shape[1], 3, offline) is not None


@pytest.mark.slow
@pytest.mark.parametrize("change, reseal", [
    (lambda r: r["search"][0].update(val_loss=0.001), False),  # an edited number: the seal says so
    (lambda r: r["search"][0].update(val_accuracy=0.999), True),  # a forger who reseals: the weights say so
    (lambda r: r.pop("depth"), True),  # a missing key
    (lambda r: r.update(temperature="1.0"), True),  # a wrong type
    (lambda r: r.update(sha256="0" * 64), True),  # a hash that does not cover the weights
    (lambda r: r["search"][0].update(selected=False), True),  # no selected trial
    (lambda r: r.pop(SEAL), False),  # unsealed
])
def test_a_forged_or_damaged_entry_is_not_served(entry, change, reseal):
    folder, offline = entry
    rewrite(folder, change, reseal=reseal)
    assert load(folder, offline.X_train.shape[1], 3, offline) is None


def finished(tmp_path):
    """A finished run's result.json, sealed as the harness writes it (no tables to check)."""
    record = seal({"status": "ok", "config": {"seed": 0}, "config_sha256": "a" * 64, "files": {}, "strategies":
                   {"frozen": {"accuracy_post": 0.8}}, "frozen_model": {}, "finished_at": "2026-01-01T00:00:00"})
    (tmp_path / "result.json").write_text(json.dumps(record))
    return record


@pytest.mark.parametrize("change, message", [
    (lambda r: r["strategies"]["frozen"].update(accuracy_post=0.99), "does not match its record_sha256"),
    (lambda r: r.update(files="all fine"), "files='all fine' fails"),
    (lambda r: r.pop("config"), "config is missing"),
    (lambda r: r.update(config_sha256=7), "config_sha256=7 fails HEX64"),
])
def test_an_edited_or_malformed_result_is_corrupt(tmp_path, change, message):
    record = finished(tmp_path)
    assert run_state(tmp_path).state == "ok"
    change(record)
    (tmp_path / "result.json").write_text(json.dumps(record))
    state = run_state(tmp_path)
    assert state.state == "corrupt" and message in state.message


def test_a_malformed_ledger_entry_is_a_failed_job_not_a_traceback(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"job_dir": "/x/0", "state": "done", "message": ""}))
    (tmp_path / "b.json").write_text("{not json")
    (tmp_path / "c.json").write_text(json.dumps({"job_dir": "/x/2", "state": "finished!"}))
    (tmp_path / "d.json").write_text(json.dumps(["a list"]))
    entries = read_ledger(tmp_path)
    assert entries[0] == {"job_dir": "/x/0", "state": "done", "message": ""}
    assert [e["state"] for e in entries[1:]] == ["failed"] * 3
    assert entries[1]["job_dir"].endswith("b.json") and "corrupt ledger entry: JSONDecodeError" in entries[1]["message"]
    assert "state='finished!' fails" in entries[2]["message"] and "message is missing" in entries[2]["message"]
    assert "it is a list, not a record" in entries[3]["message"]


NESTED = "[" * 100_000 + "]" * 100_000  # valid JSON, deeper than Python's recursion limit


def test_a_record_nested_too_deeply_to_parse_is_corrupt_not_a_traceback(tmp_path):
    (tmp_path / "result.json").write_text(NESTED)
    state = run_state(tmp_path)
    assert state.state == "corrupt" and "JSON nested too deeply to be a record" in state.message
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "a.json").write_text(NESTED)
    [entry] = read_ledger(tmp_path / "ledger")
    assert entry["state"] == "failed" and "JSON nested too deeply" in entry["message"]


def test_a_stored_network_with_a_wrong_field_is_set_aside(tmp_path):
    path = tmp_path / "net.pt"
    torch.save({"state": {}, "steps": "many", "sha256": "0" * 64}, path)
    assert netfit._load_fitted(path, None, None, {"seed": 0}) is None
    assert not path.exists() and len(list(tmp_path.glob(".corrupt-net.pt-*"))) == 1


def test_the_fingerprint_leaves_out_exactly_the_keys_a_sweep_leaves_out_of_its_directory_names():
    """One list: ``conf/config.yaml``'s ``exclude_keys`` (read here with PyYAML, not the harness) are
    the keys whose value changes no fingerprint; every other key changes it."""
    excluded = yaml.safe_load(CONFIG.read_text())["hydra"]["job"]["config"]["override_dirname"]["exclude_keys"]
    base = {"seed": 0, "rerun": False, "quiet": False, "save_stream": False, "figures": None,
            "offline": {"cache": True, "cache_dir": "a", "n_trials": 2}}
    fingerprint = config_fingerprint(base)
    assert sorted(excluded) == ["figures", "offline.cache", "offline.cache_dir", "quiet", "rerun", "save_stream"]
    for key in excluded:
        section, _, leaf = key.rpartition(".")
        changed = json.loads(json.dumps(base))
        (changed[section] if section else changed)[leaf] = "another value"
        assert config_fingerprint(changed) == fingerprint, key
    for key, value in (("seed", 1), ("offline.n_trials", 3)):
        section, _, leaf = key.rpartition(".")
        changed = json.loads(json.dumps(base))
        (changed[section] if section else changed)[leaf] = value
        assert config_fingerprint(changed) != fingerprint, key
