"""A ``torch.export`` archive is inspected before it is loaded: one that would run code when loaded
(pickled payloads, executed guards or shape expressions, non-operator graph targets) is refused
unless ``model.trusted=true``; what ``torch.export.save`` writes for an ordinary network loads."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

import harness
from harness.offline.archive import _walk
from harness.offline.freeze import export, load_exported
from harness.offline.models import Calibrated, freeze
from harness.offline.user import load_user_model
from harness.validation.errors import ConfigError
from tests import user_models
from tests.conftest import compose_config


class WritesMarker:
    """Unpickling this writes ``marker``: what a hostile pickle would do instead of something worse."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('ran')",)


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    return user_models.export_program(user_models.mlp(), tmp_path_factory.mktemp("pt2") / "mine.pt2")


def rewrite(source: Path, target: Path, change) -> Path:
    """A copy of the archive ``source`` at ``target`` with ``change(relative name, bytes)`` applied
    to each entry (returning the new bytes, or a dict of extra entries under key None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            root, relative = info.filename.split("/", 1)
            data = change(relative, old.read(info.filename))
            if isinstance(data, dict):
                for name, extra in data.items():
                    new.writestr(f"{root}/{name}", extra)
                continue
            new.writestr(info.filename, data)
    return target


def pickled_weight(marker: Path):
    """Mark the first weight pickled and put the hostile pickle in its place."""
    def change(name, data):
        if name.endswith("_weights_config.json"):
            config = json.loads(data)
            first = next(iter(config["config"].values()))
            first["use_pickle"] = True
            return json.dumps(config).encode()
        if name == "data/weights/weight_0":
            return pickle.dumps(WritesMarker(marker))
        return data
    return change


def model(path: Path, *extra: str):
    return compose_config(["model=pretrained", f"model.path={path}", *extra]).model


def test_an_ordinary_program_and_the_harness_export_load_without_trust(program, tmp_path):
    assert load_user_model(model(program)).in_features == user_models.N_FEATURES
    export(freeze(Calibrated(user_models.mlp(), 1.5)), user_models.N_FEATURES, tmp_path / "frozen.pt2")
    assert load_exported(tmp_path / "frozen.pt2")(torch.zeros(3, user_models.N_FEATURES)).shape == (3, user_models.N_CLASSES)


def test_a_pickled_weight_is_refused_and_never_unpickled(program, tmp_path):
    marker = tmp_path / "marker"
    hostile = rewrite(program, tmp_path / "hostile.pt2", pickled_weight(marker))
    with pytest.raises(ConfigError) as refused:
        load_user_model(model(hostile))
    message = str(refused.value)
    assert "model.path=" in message and "hostile.pt2" in message and "model_weights_config.json" in message
    assert "'0.weight' (weight_0) as pickled" in message and "model.trusted=true" in message
    assert not marker.exists()
    with pytest.raises(ValueError, match="as pickled"):  # the harness's own reader refuses it too
        load_exported(hostile)
    assert not marker.exists()


def test_trusted_loads_what_it_is_told_to(program, tmp_path):
    """The guard is what keeps the pickle from running: with model.trusted=true torch runs it."""
    marker = tmp_path / "marker"
    hostile = rewrite(program, tmp_path / "hostile.pt2", pickled_weight(marker))
    with pytest.raises(ConfigError):  # the weight it unpickled is no tensor
        load_user_model(model(hostile, "model.trusted=true"))
    assert marker.read_text() == "ran"


@pytest.mark.slow
def test_a_run_of_a_hostile_program_is_refused_before_anything_is_made(program, tmp_path):
    marker = tmp_path / "marker"
    hostile = rewrite(program, tmp_path / "hostile.pt2", pickled_weight(marker))
    cfg = compose_config(["model=pretrained", f"model.path={hostile}", "strategy=[frozen]"])
    with pytest.raises(ConfigError, match="as pickled"):
        harness.run_experiment(cfg, tmp_path / "out")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_example_inputs_the_weights_only_unpickler_refuses_are_refused(program, tmp_path):
    """torch falls back to a full unpickle of example inputs that weights_only refuses."""
    marker = tmp_path / "marker"
    hostile = rewrite(program, tmp_path / "hostile.pt2", lambda name, data: torch_saved(WritesMarker(marker))
                      if name.startswith("data/sample_inputs/") else data)
    with pytest.raises(ConfigError, match="weights-only unpickler refuses"):
        load_user_model(model(hostile))
    assert not marker.exists()


def torch_saved(value) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("edit, why", [
    (lambda g: g["graph_module"]["graph"]["nodes"][0].update(target="torch.os.system"), "calls 'torch.os.system'"),
    (lambda g: g["graph_module"]["graph"]["nodes"][0].update(target="_operator.attrgetter"), "calls '_operator.attr"),
    (lambda g: g.update(guards_code=["__import__('os').system('true')"]), "has the guard"),
    (lambda g: next(node for node in _walk(g) if "expr_str" in node).update(expr_str="exec('1')"),
     "shape expression \"exec('1')\""),
])
def test_code_in_the_program_json_is_refused(program, tmp_path, edit, why):
    def change(name, data):
        if name.startswith("models/"):
            graph = json.loads(data)
            edit(graph)
            return json.dumps(graph).encode()
        return data
    with pytest.raises(ConfigError) as refused:
        load_user_model(model(rewrite(program, tmp_path / "edited.pt2", change)))
    assert why in str(refused.value) and "models/model.json" in str(refused.value)


@pytest.mark.parametrize("extra, why", [
    ({"data/aotinductor/model/model.so": b"\x7fELF"}, "not a file torch.export.save writes"),
    ({"data/weights/model.pt": b"x"}, "not a file torch.export.save writes"),  # legacy: torch unpickles it
])
def test_unknown_or_compiled_entries_are_refused(program, tmp_path, extra, why):
    hostile = rewrite(program, tmp_path / "extra.pt2",
                      lambda name, data: {name: data, **extra} if name == "archive_format" else data)
    with pytest.raises(ConfigError, match=why):
        load_user_model(model(hostile))


def test_a_pickled_constant_object_is_refused(program, tmp_path):
    """torch unpickles an ``opaque_obj_`` constant with pickle.loads whatever ``use_pickle`` says."""
    marker = tmp_path / "marker"

    def change(name, data):
        if name.endswith("_constants_config.json"):
            return json.dumps({"config": {"c": {"path_name": "opaque_obj_0", "use_pickle": False}}}).encode()
        return {name: data, "data/constants/opaque_obj_0": pickle.dumps(WritesMarker(marker))} \
            if name == "archive_format" else data
    with pytest.raises(ConfigError, match="stores 'c' as a pickled object"):
        load_user_model(model(rewrite(program, tmp_path / "opaque.pt2", change)))
    assert not marker.exists()


def test_trusted_is_only_read_with_a_program():
    with pytest.raises(ConfigError, match="model.trusted=true is only read by model=pretrained"):
        load_user_model(compose_config(["model.trusted=true"]).model)
