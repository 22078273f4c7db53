"""Train once, replay many: a content-addressed cache of the pre-deployment phase.

Within a seed, the cells of a severity, kind, strategy or label sweep share their offline data, so
they share the frozen model. The key is a SHA-256 of the offline data themselves (so no stream
parameter that shapes them can be forgotten), of the model and pre-deployment settings, the seed, the
thread count, the torch version and the source of the code that trains. An entry holds the chosen
weights, the temperature, the search table and the exported program; it is written under a temporary
name and renamed into place whole, so two jobs that miss together both train and the first rename
wins. An entry whose files no longer match their recorded SHA-256 is set aside and rebuilt.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
import secrets
import shutil
from pathlib import Path

import numpy as np
import torch

from harness.offline.freeze import Pretrained, export, optimise_and_freeze, training_settings
from harness.offline.models import Calibrated, Standardize, build_network, freeze, input_scaler, weights_sha256
from harness.results.records import HEX64, count, finite, number, problems, seal, seal_problem
from harness.results.store import atomic_write, file_sha256, plain
from harness.streams.base import OfflineData

HARNESS = Path(__file__).resolve().parents[1]
TRAINING_CODE = sorted(HARNESS.glob("offline/*.py")) + [HARNESS / "strategies/netfit.py"]
WEIGHTS, PROGRAM, ENTRY = "weights.pt", "frozen_model.pt2", "entry.json"
# what reading a damaged or foreign cache file raises: truncated, emptied, not a torch file, not a record
UNREADABLE = (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, RuntimeError, pickle.UnpicklingError)


@functools.cache
def training_code_sha256() -> str:
    """SHA-256 of the source that searches, trains, calibrates and exports: a change to it is a miss."""
    return hashlib.sha256(b"".join(path.read_bytes() for path in TRAINING_CODE)).hexdigest()


def cache_key(offline: OfflineData, *, n_classes: int, settings: dict) -> str:
    """SHA-256 of everything that determines the pre-deployment outcome; ``settings`` holds the
    model, the search and training settings, the seed and the thread count (JSON-serialisable)."""
    digest = hashlib.sha256()
    for array in (offline.X_train, offline.y_train, offline.X_val, offline.y_val):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    context = {"n_classes": n_classes, "settings": settings, "torch": torch.__version__, "code": training_code_sha256()}
    digest.update(json.dumps(context, sort_keys=True).encode())
    return digest.hexdigest()


# entry.json: every field a hit reports, sealed (records.seal) so that no number in it can be edited unseen
ENTRY_SCHEMA = {"params": dict, "depth": count, "model_kind": str, "temperature": finite, "sha256": HEX64,
                "search": lambda rows: isinstance(rows, list) and bool(rows) and all(isinstance(r, dict) for r in rows),
                "program_sha256": HEX64, "standardize": bool}
SEARCH_ROW = {"trial": count, "selected": bool, "val_loss": number, "val_accuracy": number}


def load(entry: Path, n_features: int, n_classes: int, offline: OfflineData | None = None) -> Pretrained | None:
    """The cached outcome, or None when the entry is missing, is no valid sealed record, or does not
    match its files; with ``offline``, also when the selected trial's recorded validation accuracy is
    not the cached network's on the validation split (a record that does not describe its weights)."""
    try:
        record = json.loads((entry / ENTRY).read_text())
        if problems(record, ENTRY_SCHEMA) or seal_problem(record, required=True):
            return None
        if any(problems(row, SEARCH_ROW) for row in record["search"]) or \
                sum(row["selected"] for row in record["search"]) != 1:
            return None
        state = torch.load(entry / WEIGHTS, weights_only=True)
        if file_sha256(entry / PROGRAM) != record["program_sha256"]:
            return None
        scaler = Standardize.placeholder(n_features) if record["standardize"] else None  # the state sets it
        net = build_network(record["model_kind"], n_features=n_features, n_classes=n_classes,
                            width=record["params"]["width"], depth=record["depth"], scaler=scaler)
        module = Calibrated(net, record["temperature"])
        module.load_state_dict(state)
    except UNREADABLE:
        return None
    module = freeze(module)
    if weights_sha256(module) != record["sha256"]:
        return None
    if offline is not None and not _describes(record["search"], module, offline):
        return None
    return Pretrained(module, record["params"], record["depth"], record["model_kind"], record["temperature"],
                      record["sha256"], record["search"])


def _describes(search: list[dict], module, offline: OfflineData) -> bool:
    """The selected trial's validation accuracy is the network's own on the validation split
    (temperature scaling changes no argmax)."""
    selected = next(row for row in search if row["selected"])
    with torch.inference_mode():
        predicted = module(torch.as_tensor(offline.X_val, dtype=torch.float32)).argmax(dim=1).numpy()
    accuracy = float((predicted == offline.y_val).mean())
    tolerance = 0.5 / max(len(offline.y_val), 1)  # half a sample: training records it in float32
    return selected["val_accuracy"] is not None and abs(selected["val_accuracy"] - accuracy) < tolerance


def store(entry: Path, pretrained: Pretrained, program: Path, n_features: int, n_classes: int) -> None:
    """Write ``entry`` whole (a temporary directory renamed into place); a valid entry that another
    job stored first is kept, an invalid one is set aside (renamed, not deleted) and replaced."""
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}-{secrets.token_hex(4)}")
    tmp.mkdir(parents=True)
    torch.save(pretrained.module.state_dict(), tmp / WEIGHTS)
    shutil.copyfile(program, tmp / PROGRAM)
    record = seal(plain({"params": pretrained.params, "depth": pretrained.depth, "model_kind": pretrained.model_kind,
                         "temperature": pretrained.temperature, "sha256": pretrained.sha256,
                         "search": pretrained.search, "program_sha256": file_sha256(program),
                         "standardize": input_scaler(pretrained.module) is not None}))
    (tmp / ENTRY).write_text(json.dumps(record, indent=1))
    if entry.exists() and load(entry, n_features, n_classes) is None:
        set_aside(entry)
    try:
        tmp.rename(entry)
    except OSError:  # another job stored the same entry in the meantime: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)


def set_aside(path: Path) -> None:
    """Rename a damaged entry or file out of the way (``.corrupt-...``), never delete it; one that
    another job set aside first is already gone."""
    try:
        path.rename(path.with_name(f".corrupt-{path.name}-{secrets.token_hex(4)}"))
    except FileNotFoundError:
        pass


def pretrain(offline: OfflineData, *, n_classes: int, settings: dict, cache_dir: Path | None,
             export_to: Path) -> tuple[Pretrained, str]:
    """The pre-deployment outcome and the exported program at ``export_to``, from the cache in
    ``cache_dir`` (``hit``), trained and stored there (``miss``), or trained without a cache (``off``).
    ``settings``: every keyword argument of :func:`optimise_and_freeze` (:func:`training_settings`),
    and ``threads``; all of them are in the cache key, so a key missing or unknown is refused
    (``ValueError``) rather than left to a default the key would not cover.

    A user's model (``model_kind="pretrained"``, its ``model`` node in ``settings["model"]``) is not
    cached (``off``): nothing is searched or trained, loading and calibrating it takes well under a
    second, and a key would have to follow the content of files outside the harness."""
    if settings["model_kind"] == "pretrained":
        from harness.offline.user import freeze_user_model

        return freeze_user_model(settings["model"], offline, n_classes=n_classes, calibrate=settings["calibrate"],
                                 standardize=settings["standardize"], export_to=export_to), "off"
    expected = {*training_settings(), "threads"}
    if set(settings) != expected:
        raise ValueError(f"offline settings lack {sorted(expected - set(settings))} and have unknown "
                         f"{sorted(set(settings) - expected)}; they are optimise_and_freeze's arguments and threads")
    n_features = offline.X_train.shape[1]
    entry = Path(cache_dir) / cache_key(offline, n_classes=n_classes, settings=settings) if cache_dir else None
    if entry is not None and (cached := load(entry, n_features, n_classes, offline)) is not None:
        atomic_write(export_to, lambda tmp: shutil.copyfile(entry / PROGRAM, tmp))
        return dataclasses.replace(cached, cache_dir=Path(cache_dir)), "hit"
    train = {key: value for key, value in settings.items() if key != "threads"}
    pretrained = optimise_and_freeze(offline, n_classes=n_classes, **train)
    export(pretrained.module, n_features, export_to)
    if entry is None:
        return pretrained, "off"
    store(entry, pretrained, export_to, n_features, n_classes)
    return dataclasses.replace(pretrained, cache_dir=Path(cache_dir)), "miss"
