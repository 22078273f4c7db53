"""Capabilities declared once as tags (``_more_tags``) and read through one function each:
``harness.strategies.base.tags`` and ``harness.streams.stream.stream_tags``."""

from __future__ import annotations

import numpy as np
import pytest

from harness.strategies.base import BaseStrategy, Tags, tags
from harness.streams import FAMILIES
from harness.streams.families import user_class
from harness.streams.stream import StreamTags, stream_tags
from harness.validation.checks import strategy_class
from harness.validation.errors import ConfigError
from tests.helpers import CONF, strategy_tags
from tests.user_streams import Blobs

# Written by hand from what each strategy does, not read from the code.
FAMILY = {
    "static": ["frozen", "frozen_ensemble", "frozen_uncalibrated", "oracle", "oracle_switch"],
    "river": ["majority", "no_change", "river_adwin_bagging", "river_arf", "river_gnb", "river_hat", "river_ht",
              "river_knn", "river_lev_bagging", "river_logreg", "river_text_logreg", "river_text_nb"],
    "continuous": ["finetune", "retrain_on_alarm", "retrain_periodic", "retrain_triggered"],
}


def test_every_strategy_of_conf_declares_its_family():
    assert sorted(p.stem for p in CONF.glob("*.yaml")) == sorted(sum(FAMILY.values(), []))
    for family, names in FAMILY.items():
        assert {name: strategy_tags(name).family for name in names} == dict.fromkeys(names, family)


def test_the_built_in_capabilities():
    declared = {name: strategy_tags(name) for name in sum(FAMILY.values(), [])}
    assert sorted(n for n, t in declared.items() if t.needs_known_drift) == ["oracle", "oracle_switch"]
    assert sorted(n for n, t in declared.items() if t.selects_labels) == ["retrain_on_alarm"]
    assert sorted(n for n, t in declared.items() if t.needs_from_model == "factory") == ["frozen_ensemble"]
    assert sorted(n for n, t in declared.items() if t.needs_from_model == "weights") == [
        "finetune", "oracle", "oracle_switch", "retrain_on_alarm", "retrain_periodic", "retrain_triggered"]
    assert sorted(n for n, t in declared.items() if t.reads == "tokens") == ["river_text_logreg", "river_text_nb"]
    assert all(t.reads == "features" for n, t in declared.items() if n in FAMILY["river"] and "text" not in n)
    assert all(t.reads is None for n, t in declared.items() if n not in FAMILY["river"])


class Mine(BaseStrategy):
    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)

    def learn(self, X, y):
        pass


def test_defaults_and_a_subclass_overriding_its_base():
    assert tags(Mine) == Tags() == Tags("other", None, False, None, False)

    class Base(Mine):
        _more_tags = {"family": "continuous", "needs_from_model": "weights"}

    class Sub(Base):
        _more_tags = {"needs_from_model": None}

    assert tags(Sub()) == Tags(family="continuous")  # an instance reads its class's tags


@pytest.mark.parametrize("declared, message", [
    ({"famly": "static"}, "declares an unknown tag 'famly' in _more_tags; known tags: ['family', 'reads',"),
    ({"family": "frozen"}, "tag family='frozen' is not one of ['static', 'river', 'continuous', 'other']"),
    ({"needs_from_model": "weight"}, "tag needs_from_model='weight' is not one of ['weights', 'factory', None]"),
    ({"reads": "text"}, "tag reads='text' is not one of ['features', 'tokens', None]"),
])
def test_unknown_tags_and_values_are_refused(declared, message):
    cls = type("Wrong", (Mine,), {"_more_tags": declared})
    with pytest.raises(ConfigError, match="^strategy Wrong") as refused:
        tags(cls)
    assert message in str(refused.value)


def test_a_capability_still_set_as_an_attribute_is_refused_before_the_run():
    """Before tags a bound said ``needs_known_drift = True``: ignored silently it would train on nothing."""
    cls = type("OldBound", (Mine,), {"needs_known_drift": True, "__module__": __name__})
    globals()["OldBound"] = cls
    try:
        with pytest.raises(ConfigError) as refused:
            strategy_class("mine", f"{__name__}.OldBound")
    finally:
        del globals()["OldBound"]
    assert str(refused.value) == (f"strategy.mine._target_='{__name__}.OldBound': strategy OldBound sets "
                                  "needs_known_drift as an attribute; declare it as a tag instead: "
                                  "_more_tags = {'needs_known_drift': True}")


def test_the_stream_families_declare_what_they_implement():
    declared = {name: stream_tags(cls) for name, cls in FAMILIES.items()}
    assert [n for n, t in declared.items() if t.inputs == "tokens"] == ["prompts"]
    assert [n for n, t in declared.items() if t.token_table] == ["prompts"]
    assert sorted(n for n, t in declared.items() if not t.post_drift) == ["bananas", "phishing", "table", "weather"]
    assert stream_tags(Blobs) == StreamTags("features", False, False)


class PostDriftUndeclared(Blobs):
    def post_drift(self):
        return self.offline()


class PostDriftMissing(Blobs):
    _more_tags = {"post_drift": True}


class TableHalf(Blobs):
    _more_tags = {"inputs": "tokens", "token_table": True}
    tokens = ["<pad>", "a"]


class OldTokens(Blobs):
    inputs = "tokens"


@pytest.mark.parametrize("cls, message", [
    (PostDriftUndeclared, "stream PostDriftUndeclared implements ['post_drift'] without declaring it: "
                          "add _more_tags = {'post_drift': True} to the class"),
    (PostDriftMissing, "stream PostDriftMissing declares the tag post_drift but lacks ['post_drift']"),
    (TableHalf, "stream TableHalf declares the tag token_table but lacks ['words', 'oov_share']"),
    (OldTokens, "stream OldTokens sets inputs as an attribute; declare it as a tag instead: "
                "_more_tags = {'inputs': 'tokens'}"),
])
def test_a_user_stream_declares_each_capability_it_implements(cls, message):
    target = f"{__name__}.{cls.__name__}"
    with pytest.raises(ConfigError) as refused:
        user_class(target)
    assert str(refused.value) == f"stream._target_={target!r}: {message}"
