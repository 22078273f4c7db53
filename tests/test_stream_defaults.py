"""Every shipped stream runs with no other argument: ``python -m harness.run stream=<family>``.

A stream whose deployment is shorter than the default onset (Phishing, Bananas) sets its own onset,
a token stream (``prompts``) its own model and strategies; command-line values still win."""

from __future__ import annotations

import json

import pytest

import harness
from harness.run import run
from harness.validation.config import CONF_DIR
from harness.validation.preflight import preflight

# Families that need the user's own data or class: they cannot run without arguments.
NEEDS_ARGUMENTS = {"table", "custom"}
SHIPPED = sorted(p.stem for p in (CONF_DIR / "stream").glob("*.yaml") if p.stem not in NEEDS_ARGUMENTS)
TEXT_STRATEGIES = ["frozen", "river_text_nb", "river_text_logreg", "finetune"]


def test_the_shipped_families_are_all_there():
    assert len(SHIPPED) == 14 and {"phishing", "bananas", "prompts", "teacher", "weather"} <= set(SHIPPED)


@pytest.mark.parametrize("family", SHIPPED)
def test_every_shipped_stream_passes_the_checks_with_no_other_argument(family):
    cfg = harness.compose([f"stream={family}"])
    preflight(cfg)  # raises a ConfigError naming the key otherwise
    assert cfg.stream.family == family


@pytest.mark.parametrize(("family", "onset"), [("phishing", 225), ("bananas", 1000), ("teacher", 3000), ("sea", 3000)])
def test_a_stream_default_onset_is_half_its_deployment_or_the_global_default(family, onset):
    assert harness.compose([f"stream={family}"]).drift.onset == onset


@pytest.mark.parametrize(
    ("overrides", "onset", "pattern"),
    [
        (["stream=phishing", "drift.onset=100"], 100, "sudden"),  # the command line wins
        (["drift.onset=100", "stream=phishing"], 100, "sudden"),  # in any order
        (["stream=phishing", "drift=gradual", "drift.width=100"], 225, "gradual"),  # a drift file keeps it
        (["stream=bananas", "drift=covariate"], 1000, "sudden"),
        (["stream=phishing", "experiment=cost"], None, None),  # a preset applied last still decides
    ],
)
def test_command_line_and_drift_files_keep_or_override_the_stream_onset(overrides, onset, pattern):
    cfg = harness.compose(overrides)
    if onset is None:
        assert cfg.drift.onset == harness.compose(["experiment=cost"]).drift.onset
    else:
        assert (cfg.drift.onset, cfg.drift.pattern) == (onset, pattern)


def test_prompts_picks_the_text_model_and_text_strategies():
    cfg = harness.compose(["stream=prompts"])
    assert cfg.model.kind == "text" and list(cfg.strategy) == TEXT_STRATEGIES


@pytest.mark.parametrize(
    ("overrides", "kind", "strategies"),
    [
        (["stream=prompts", "strategy=[frozen]"], "text", ["frozen"]),
        (["strategy=[finetune,frozen]", "stream=prompts"], "text", ["finetune", "frozen"]),
        (["stream=prompts", "model=text", "model.vocab=hashed"], "text", TEXT_STRATEGIES),
        (["stream=prompts", "model=pretrained", f"model.path={__file__}"], "pretrained", TEXT_STRATEGIES),
        (["stream=teacher"], "mlp", ["frozen", "river_logreg", "river_hat", "finetune"]),
    ],
)
def test_a_model_or_strategy_list_the_user_gives_wins(overrides, kind, strategies):
    cfg = harness.compose(overrides)
    assert cfg.model.kind == kind and list(cfg.strategy) == strategies


@pytest.mark.slow
@pytest.mark.parametrize("family", ["phishing", "bananas", "prompts"])
def test_a_tiny_run_of_a_stream_with_its_own_defaults_finishes(tmp_path, family):
    # sizes shrunk by the test only; the schedule, model and strategies are the stream's own
    cfg = harness.compose([f"stream={family}", "stream.n_offline=300", "stream.n_deploy=300", "drift.onset=150",
                           "metrics.window=50", "offline.n_trials=1", "offline.max_epochs=3", "quiet=true",
                           "monitor=off", "figures=false"])
    run(cfg, tmp_path)
    result = json.loads((tmp_path / "result.json").read_text())
    expected = TEXT_STRATEGIES if family == "prompts" else ["frozen", "river_logreg", "river_hat", "finetune"]
    assert sorted(result["strategies"]) == sorted(expected)
