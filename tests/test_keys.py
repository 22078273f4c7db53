"""A misspelt key on the command line gets the harness's message first, before Hydra's hint to
append it with ``+``: the key, its node, the closest key and the allowed ones; exit code 2."""

from __future__ import annotations

import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from harness.validation.errors import ConfigError
from harness.validation.keys import check_override_keys
from tests import preloaded
from tests.conftest import compose_config, compose_with_hydra

DRIFT = "['kind', 'pattern', 'severity', 'onset', 'width', 'period', 'transition', 'fault', 'features']"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["drift.sevrity=0.5"], f"drift.sevrity is not a key of drift (did you mean 'severity'?); allowed: {DRIFT}"),
        (["sed=3"], "sed is not a key of the configuration (did you mean 'seed'?); allowed: ['seed', "),
        (["offline.search.widht=[32]"],
         "offline.search.widht is not a key of offline.search (did you mean 'width'?); allowed: "
         "['lr', 'batch_size', 'weight_decay', 'width']"),
        (["stream=sea", "stream.noize=0.1"], "stream.noize is not a key of stream=sea (did you mean 'noise'?)"),
        (["stream.noize=0.1", "stream=sea"], "stream.noize is not a key of stream=sea (did you mean 'noise'?)"),
        (["stream.noise=0.1"], "stream.noise is not a key of stream=teacher; allowed: ['family', 'n_offline'"),
        (["strategy.frozen.stepp=3"],
         "strategy.frozen.stepp is not a key of strategy.frozen (harness.strategies.frozen.Frozen) "
         "(did you mean 'step'?); allowed: ['step', 'calibrated']"),
        (["experiment=prompts", "model.vocabb=hashed"], "model.vocabb is not a key of model (did you mean 'vocab'?)"),
    ],
)
def test_a_misspelt_key_is_refused_naming_the_closest_and_the_allowed(overrides, message):
    with pytest.raises(ConfigError) as raised:
        check_override_keys(overrides)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    "overrides",
    [
        ["drift.severity=0.5", "stream=sea", "stream.noise=0.1", "seed=2", "offline.search.width=[32]"],
        ["strategy=[frozen,river_hat]", "strategy.river_hat.model.grace_period=50", "strategy.frozen.step=2"],
        ["+drift.sevrity=0.5"],  # an explicit addition: the checks after composition judge it
        ["-m", "stream=sea,phishing", "stream.noise=0.1"],  # a swept group: each job's node decides
        ["stream=nonexistent", "stream.x=1"],  # Hydra names the bad choice and lists the options
        ["hydra.run.dir=/tmp/x", "hydra/launcher=joblib"],
        ["stream=custom", "stream._target_=tests.user_streams.Blobs"],  # a missing value (???) is a key
    ],
)
def test_known_keys_and_what_hydra_judges_pass(overrides):
    check_override_keys([o for o in overrides if not o.startswith("-")])


def list_paths(node, prefix: str = "") -> list[str]:
    """The dotted path of every list in a config (as plain containers)."""
    if isinstance(node, list):
        return [prefix.rstrip(".")]
    if not isinstance(node, dict):
        return []
    return [path for key, value in node.items() for path in list_paths(value, f"{prefix}{key}.")]


LISTS = list_paths(OmegaConf.to_container(compose_config(tiny=False)))


@pytest.mark.slow  # two compositions an example
@settings(max_examples=20, deadline=None)
@example(path="monitor.detectors", part="ks_inputs", deeper=True)
@given(path=st.sampled_from(LISTS), part=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
       deeper=st.booleans())
def test_a_part_of_a_list_that_is_no_position_is_refused_naming_the_key(path, part, deeper):
    """Where Hydra would fail with OmegaConf's bare TypeError (a traceback), a key that indexes a list by
    a name gets the harness's message; Hydra itself fails on it too (no false refusal)."""
    key = f"{path}.{part}{'.x' if deeper else ''}"
    with pytest.raises(ConfigError) as refused:
        check_override_keys([f"{key}=1"])
    assert str(refused.value).startswith(f"{key}: {path} is a list, indexed by position")
    with pytest.raises(Exception):
        compose_with_hydra([f"{key}=1"])


@pytest.mark.slow
def test_the_command_line_gives_the_message_first_with_exit_code_2(tmp_path):
    done = preloaded.run([sys.executable, "-m", "harness.run", "drift.sevrity=0.5", f"hydra.run.dir={tmp_path / 'r'}"],
                         capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"error: drift.sevrity is not a key of drift (did you mean 'severity'?); allowed: {DRIFT}\n"
    assert not (tmp_path / "r").exists()
