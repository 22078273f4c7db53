"""Property tests of the validation layer: whatever value any key of the config takes, and whatever
table ``stream=table`` reads, the outcome is a refusal naming the key (``ConfigError``, or Hydra's
``ConfigCompositionException``) or acceptance; an accepted config runs and writes finite numbers
(or NaN where the results contract documents it). No other exception may escape: that would be a
traceback for the user.

Profiles: the default one keeps this file under about a minute; ``HYPOTHESIS_PROFILE=ci`` runs many
more examples (README, "Tests").
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from harness.results.figure_names import FIGURES
from harness.run import run
from harness.validation.command_line import as_typed, check_overrides, ruled_keys
from harness.validation.config import group_names
from harness.validation.errors import ConfigError
from harness.validation.preflight import check_sweep_options, preflight
from harness.validation.validate import directory_problem
from tests.conftest import CONF, compose_config

settings.register_profile("default", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("ci", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

STRATEGIES = ["strategy=[frozen,finetune,river_logreg]"]


def _leaves(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


KEYS = sorted(_leaves(OmegaConf.to_container(compose_config(STRATEGIES), resolve=False)))

HOSTILE = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-320, -0.0, 1e308, 0.5, float("nan"), float("inf")]),
    st.text(max_size=12),
    st.sampled_from(["", "ü", "yes", "${oc.env:NOPE}", "${seed}", "???", "/dev/null", "none"]),
    st.lists(st.integers(-3, 3), max_size=3),
    st.lists(st.lists(st.floats(allow_nan=False, width=32), max_size=2), max_size=2),
    st.just([]), st.just({}),
    st.dictionaries(st.sampled_from(["a", "_target_", "_args_"]), st.sampled_from([1, "builtins.print", []]),
                    max_size=2),
    st.just({"_target_": "builtins.open", "file": "/dev/null", "mode": "w"}),
    st.just([[{"_target_": "pathlib.Path.write_text"}]]),
)


def _named(error: BaseException, keys: list[str]) -> bool:
    """The message names one of the changed keys (a strategy's argument may be named by its
    strategy's node, a stream's key as ``stream.<key>`` or by the stream it breaks)."""
    text = str(error)
    names = set()
    for key in keys:
        names.add(key)
        parts = key.split(".")
        names.update(".".join(parts[:i]) for i in range(2, len(parts)))
    return any(name in text for name in names) or text.startswith("stream=")


def _outcome(edits: dict):
    """Apply ``edits`` to the composed config and pass it through the checks: None when accepted."""
    cfg = compose_config(STRATEGIES)
    try:
        for key, value in edits.items():
            OmegaConf.update(cfg, key, value, force_add=False)
        preflight(cfg)
    except (ConfigError, ConfigCompositionException) as error:
        return error
    except Exception as error:  # OmegaConf refusing the edit itself is the user's own line, not ours
        if type(error).__module__.startswith("omegaconf"):
            return None
        raise
    return None


@pytest.mark.slow
@given(key=st.sampled_from(KEYS), value=HOSTILE)
def test_any_value_of_any_key_is_refused_by_name_or_accepted(key, value):
    error = _outcome({key: value})
    if error is not None:
        assert _named(error, [key]), (key, value, str(error))


@given(pair=st.lists(st.sampled_from(KEYS), min_size=2, max_size=2, unique=True), a=HOSTILE, b=HOSTILE)
def test_any_pair_of_keys_is_refused_by_name_or_accepted(pair, a, b):
    error = _outcome(dict(zip(pair, (a, b))))
    if error is not None:
        assert _named(error, pair), (pair, a, b, str(error))


def _finite_or_nan(value) -> bool:
    if isinstance(value, dict):
        return all(_finite_or_nan(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_or_nan(v) for v in value)
    return not isinstance(value, float) or math.isnan(value) or math.isfinite(value)


def _check_run(cfg, out) -> None:
    """A run of an accepted config: ``result.json`` says ok, no infinity anywhere in it or its tables."""
    run(cfg, out)
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "ok"
    assert _finite_or_nan(result)
    for table in ("summary.csv", "windows.csv", "costs.csv"):
        numbers = pd.read_csv(out / table).select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any(), table


PLAUSIBLE = {
    "drift.severity": st.floats(0, 1), "seed": st.integers(0, 2**32 - 1), "replay.label_fraction": st.floats(0.01, 1),
    "metrics.confidence_threshold": st.floats(0, 1), "replay.label_delay": st.integers(0, 50),
    "drift.pattern": st.sampled_from(["none", "sudden", "gradual", "incremental"]),
}


@pytest.mark.slow
@settings(max_examples=2)
@given(edits=st.fixed_dictionaries({}, optional=PLAUSIBLE))
def test_an_accepted_config_runs_to_finite_numbers(edits, tmp_path_factory):
    cfg = compose_config(["strategy=[frozen,river_logreg]", "monitor=off", "figures=false", "offline.max_epochs=3"])
    for key, value in edits.items():
        OmegaConf.update(cfg, key, value)
    try:
        preflight(cfg)
    except ConfigError:
        return
    _check_run(cfg, tmp_path_factory.mktemp("run") / "out")


NAMES = st.text(alphabet="abcxyzäü_ 0123456789", min_size=1, max_size=6)
CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**60), 2**60),
                  st.sampled_from([1e39, -1e39, 1e-45, 0.0]), st.sampled_from(["x", "ü", ""]))


@st.composite
def tables(draw):
    """A table of 60-200 rows: 1-4 feature columns of random names and cells (NaN, inf, text, huge
    values), a target of 1 to many classes."""
    n = draw(st.integers(60, 200))
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True).filter(lambda ns: "y" not in ns))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    frame = pd.DataFrame({name: rng.normal(size=n) for name in names})
    for _ in range(draw(st.integers(0, 3))):
        column, row = draw(st.sampled_from(names)), draw(st.integers(0, n - 1))
        cell = draw(CELLS)
        if isinstance(cell, str):
            frame[column] = frame[column].astype(object)
        frame.loc[row, column] = cell
    n_classes = draw(st.sampled_from([1, 2, 3, 40]))
    labels = rng.integers(0, n_classes, n)
    frame["y"] = draw(st.sampled_from([labels, labels.astype(float), np.array([f"c{k}" for k in labels])]))
    return frame, draw(st.sampled_from(["csv", "parquet"]))


RAN = []  # tables that ran: at most two full runs per session keep the file fast


@pytest.mark.slow
@given(table=tables())
def test_any_table_is_refused_by_name_or_runs_to_finite_numbers(table, tmp_path_factory):
    frame, kind = table
    path = tmp_path_factory.mktemp("table") / f"data.{kind}"
    try:
        frame.to_csv(path, index=False) if kind == "csv" else frame.to_parquet(path)
    except Exception:  # pyarrow refuses a column of mixed types: no such file can exist
        return
    overrides = ["stream=table", f"stream.path={path}", "stream.target=y", "drift=none", "monitor=off",
                 "figures=false", "strategy=[frozen,river_logreg]", "stream.n_offline=40", "stream.n_deploy=null",
                 "offline.max_epochs=3"]
    try:
        cfg = compose_config([o for o in overrides])
        preflight(cfg)
    except (ConfigError, ConfigCompositionException) as error:
        assert "stream" in str(error) or "strategy" in str(error) or "metrics.window" in str(error), str(error)
        return
    if len(RAN) < 2:
        RAN.append(path)
        _check_run(cfg, path.parent / "out")


SWEEP_NODE = OmegaConf.load(CONF / "config.yaml").hydra.callbacks.sweep  # the sweep callback's own config
SWEEP_KEYS = ["update_reference", "report", "progress", "poll_s", "figures", "reference", "reference_dir", "figurs"]


FIGURE_LISTS = st.lists(st.sampled_from([*FIGURES, "nope", ""]), max_size=3)  # half the values: HOSTILE has none


@settings(max_examples=300)  # milliseconds each
@given(edits=st.dictionaries(st.sampled_from(SWEEP_KEYS),
                             st.booleans().flatmap(lambda b: FIGURE_LISTS if b else HOSTILE), min_size=1, max_size=2))
@example(edits={"figures": ["severity_boxes", "nope"]})
@example(edits={"reference": ["severity_boxs"]})
@example(edits={"poll_s": 0})
@example(edits={"figures": [], "reference": []})
@example(edits={"update_reference": True, "reference_dir": "/dev/null"})
@example(edits={"update_reference": False, "reference_dir": "/dev/null"})  # not written: not checked
def test_any_sweep_option_is_refused_by_name_or_gives_a_callback_that_works(edits):
    """``hydra.callbacks.sweep.*``: refused naming the key, or a callback whose options are what it uses."""
    node = OmegaConf.merge(SWEEP_NODE, edits)
    try:
        check_sweep_options(OmegaConf.create({"callbacks": {"sweep": node}}))
    except ConfigError as error:
        assert any(f"hydra.callbacks.sweep.{key}" in str(error) for key in edits), (edits, str(error))
        return
    callback = instantiate(node)
    assert callback.update_reference in (True, False) and callback.report in (True, False)
    assert callback.progress in (True, False) and isinstance(callback.reference_dir, str)
    assert isinstance(callback.poll_s, (int, float)) and 0 < callback.poll_s <= 3600
    assert callback._figures() is None or set(callback._figures()) <= set(FIGURES)
    assert set(callback.reference or []) <= set(FIGURES)
    assert not callback.update_reference or not directory_problem(Path(callback.reference_dir))


RULED = sorted(ruled_keys())
TEXTS = st.one_of(
    st.sampled_from(["0", "1", "-1", "2", "0.5", "1e9", "-1e-9", "nan", "inf", "-inf", "abc", "true", "null", "[1]",
                     "''", "4294967296", "covariate", "sudden", "mlp", "tpe"]),
    st.integers(-5, 10**6).map(str), st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@given(key=st.sampled_from(RULED), text=TEXTS)
def test_the_command_line_refuses_a_value_only_if_its_run_would(key, text):
    """What the command line refuses before Hydra runs (a swept value out of range, before the first job)
    is refused by composing that config or by the run's own checks: no false refusal."""
    override = f"{key}={text}"
    try:
        check_overrides([override])
    except ConfigError:
        try:
            preflight(compose_config([*STRATEGIES, override]))
        except (ConfigError, ConfigCompositionException):
            return
        raise AssertionError(f"{override} is refused by the command line only")


GROUPS = [*group_names(), "hydra/launcher", "hydra/sweeper"]
NOT_NAMES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                      st.lists(st.sampled_from(["sudden", "mlp", "teacher", "1"]), max_size=2))


@pytest.mark.parametrize("group", group_names())
def test_deleting_a_config_group_the_defaults_fill_is_refused_naming_its_options(group):
    """``~drift`` or ``~drift=sudden`` (the option it holds) leaves the group to its schema's defaults, settings
    nobody chose; ``experiment`` is null by default, and deleting it deletes nothing."""
    options = sorted(p.stem for p in (CONF / group).glob("*.yaml"))
    for text in (f"~{group}", f"~{group}={options[0]}"):
        if group == "experiment":
            check_overrides([text])
            continue
        with pytest.raises(ConfigError, match=re.escape(f"{text} deletes the config group {group}")) as refused:
            check_overrides([text])
        assert str(options) in str(refused.value)
    if group != "experiment":
        with pytest.raises(ConfigError, match=re.escape(f"~{group}")):
            compose_config([f"~{group}"])  # harness.compose: the same check


@given(group=st.sampled_from(GROUPS), value=NOT_NAMES)
def test_a_config_group_given_anything_but_an_options_name_is_refused_by_name(group, value):
    """``drift=1``, ``hydra/launcher=null`` or ``model=[mlp]``: Hydra stops on the first with a traceback and
    merges the options of a list; the command line refuses each, naming the group (``strategy`` takes a list).
    Deleting one option (``~drift=sudden``) takes its name alone, a list included."""
    with pytest.raises(ConfigError, match=re.escape(f"{group}={as_typed(value)} is ")):
        check_overrides([f"~{group}={as_typed(value)}"])
    if group == "strategy" and isinstance(value, list):
        return
    text = f"{group}={as_typed(value)}"
    with pytest.raises(ConfigError, match=re.escape(f"{text} is ")):
        check_overrides([text])
    with pytest.raises(ConfigError, match=re.escape(f"{group}=")):
        check_overrides([f"{group}=teacher,{as_typed(value)}"])  # a swept value too, after a good one
