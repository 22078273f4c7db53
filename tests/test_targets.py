"""Every ``_target_`` of a config is decided by its slot before anything is built: code that is not
a strategy, a River object inside a strategy, a user's stream or a model factory is refused with its
full path, at any depth, and never called (a file it would truncate keeps its content)."""

from __future__ import annotations

import pytest

from harness.run import run
from harness.validation.command_line import check_overrides
from harness.validation.errors import ConfigError
from harness.validation.targets import walk
from tests import user_models
from tests.conftest import compose_config

RIVER = "strategy=[river_logreg]"
NOT_RIVER = "is not a River class (river.*)"
OPEN = "{_target_:builtins.open,file:'{victim}',mode:w}"

# (overrides with {victim} a file holding "precious", the start of the message: the full path)
SHAPES = [
    ([RIVER, "strategy.river_logreg.model._args_=[[" + OPEN + "]]"],
     "strategy.river_logreg.model._args_[0][0]._target_='builtins.open' " + NOT_RIVER),
    ([RIVER, "strategy.river_logreg.model._args_=[{_target_:river.preprocessing.StandardScaler},[[" + OPEN + "]]]"],
     "strategy.river_logreg.model._args_[1][0][0]._target_='builtins.open' " + NOT_RIVER),
    ([RIVER, "strategy.river_logreg.model._args_=[{_target_:river.preprocessing.StandardScaler,x:[{y:" + OPEN + "}]}]"],
     "strategy.river_logreg.model._args_[0].x[0].y._target_='builtins.open' " + NOT_RIVER),
    ([RIVER, "+strategy.river_logreg.model.extra={a:{b:[" + OPEN + "]}}"],
     "strategy.river_logreg.model.extra.a.b[0]._target_='builtins.open' " + NOT_RIVER),
    ([RIVER, "+strategy.river_logreg.model._args_.0._partial_=true"],
     "strategy.river_logreg.model._args_[0]._partial_=True is not allowed"),
    ([RIVER, "+strategy.river_logreg._recursive_=false"], "strategy.river_logreg._recursive_=False is not allowed"),
    (["+monitor.x=" + OPEN], "monitor.x is not a key of monitor"),
    (["monitor.strategies=[[" + OPEN + "]]"], "monitor.strategies[0][0]._target_='builtins.open' is in no place"),
    (["stream=weather", "stream.change_points=[" + OPEN + "]"],
     "stream.change_points[0]._target_='builtins.open' is in no place that names code"),
    (["+drift._target_=pathlib.Path.write_text"], "drift._target_ is not a key of drift"),
    (["+strategy.evil._target_=builtins.open", "+strategy.evil.file={victim}", "+strategy.evil.mode=w"],
     "strategy.evil._target_='builtins.open' is not a class implementing the strategy protocol"),
]


@pytest.mark.slow
@pytest.mark.parametrize("overrides, message", SHAPES, ids=[o[-1][:60] for o, _ in SHAPES])
def test_code_named_anywhere_is_refused_and_never_called(overrides, message, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    overrides = [o.replace("{victim}", str(victim)) for o in overrides]
    check_overrides(overrides)
    with pytest.raises(ConfigError) as refused:
        run(compose_config(overrides), tmp_path / "run")
    assert str(refused.value).startswith(message)
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize("factory, message", [
    ("unannotated", "has no return annotation"),
    ("Plain", "is a class that does not subclass torch.nn.Module"),
    ("not_a_module", "is annotated to return dict, not a torch.nn.Module"),
])
def test_a_model_factory_of_unknown_result_is_refused_without_being_called(factory, message, tmp_path):
    weights = tmp_path / "w.pt"
    import torch

    torch.save(user_models.mlp().state_dict(), weights)
    overrides = ["model=pretrained", f"model._target_=tests.user_models.{factory}", f"model.weights={weights}"]
    with pytest.raises(ConfigError, match=f"^model._target_='tests.user_models.{factory}' {message}"):
        run(compose_config(overrides), tmp_path / "run")
    assert user_models.CALLED == []


def test_an_annotated_factory_and_a_module_class_are_accepted():
    from harness.offline.user import model_factory

    assert model_factory("tests.user_models.mlp") is user_models.mlp
    assert model_factory("tests.user_models.Buffered") is user_models.Buffered
    assert model_factory("torch.nn.Identity").__name__ == "Identity"


def test_the_walker_reaches_every_depth():
    tree = {"a": [[{"b": [{"_target_": "x"}]}]], "c": {"d": ({"e": 1},)}}
    assert [path for path, _ in walk(tree)] == ["", "a[0][0]", "a[0][0].b[0]", "c", "c.d[0]"]
