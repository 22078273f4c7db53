"""Bad stream or drift input fails before any compute with a message naming key, value and choices;
every family composes from ``conf/`` and builds."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException

from harness.run import run
from harness.streams import FAMILIES, build_stream
from harness.streams.stream import stream_tags
from harness.streams.weather import rainfall_csv
from harness.validation.errors import ConfigError
from tests.conftest import compose_config
from tests.streams_cases import make

# Phishing has 1,250 rows and uses none twice: the tiny config's 800 + 1,200 samples do not fit.
# stream=table reads a file: the weather data's CSV, as a user's table, ordered by its day index (an index
# is refused as a feature).
SMALL = {"phishing": ["stream.n_offline=350", "stream.n_deploy=450", "drift.onset=150"],
         "table": [f"stream.path={rainfall_csv()}", "stream.target=rain", "stream.order='Unnamed: 0'"]}


@pytest.mark.parametrize(
    ("family", "drift", "stream", "message"),
    [
        ("teacher", {"kind": "sideways"}, {}, "drift.kind='sideways' is not one of ['none', 'covariate'"),
        ("teacher", {"pattern": "wobbly"}, {}, "drift.pattern='wobbly' is not one of ['none', 'sudden'"),
        ("teacher", {"severity": 1.7}, {}, "drift.severity=1.7 is outside [0, 1]"),
        ("gaussian_classes", {"severity": -0.1}, {}, "drift.severity=-0.1 is outside [0, 1]"),
        ("teacher", {"onset": 700}, {}, "drift.onset=700 is outside [0, stream.n_deploy=600)"),
        ("teacher", {"pattern": "gradual", "width": 500}, {}, "drift.onset + drift.width = 700 exceeds"),
        ("teacher", {"pattern": "incremental", "width": 0}, {}, "drift.width=0 must be >= 1"),
        ("teacher", {"pattern": "recurring", "period": 0}, {}, "drift.period=0 must be >= max(1, drift.width=100)"),
        ("sea", {"pattern": "recurring", "period": 400}, {},
         "drift.onset + drift.period = 600 must be < stream.n_deploy=600"),
        ("teacher", {"pattern": "recurring", "transition": "slow"}, {}, "drift.transition='slow' is not one of"),
        ("sea", {"kind": "label"}, {},
         "streams that support it: ['teacher', 'gaussian_classes', 'phishing', 'bananas', 'prompts']"),
        ("phishing", {"kind": "novel"}, {}, "streams that support it: ['teacher', 'gaussian_classes', 'prompts']"),
        ("sea", {"pattern": "incremental"}, {},
         "streams that support it: ['teacher', 'gaussian_classes', 'hyperplane', 'random_rbf', 'phishing', 'bananas', 'prompts']"),
        ("sea", {}, {"drift_concept": 4}, "stream.drift_concept=4 is not one of [0, 1, 2, 3]"),
        ("gaussian_classes", {"kind": "label"}, {"minority_prior": 0.5},
         "stream.minority_prior=0.5 is outside [0, 0.333333]"),
        ("gaussian_classes", {}, {"offline_majority": 0.2}, "stream.offline_majority=0.2 is outside [0.333333, 1)"),
        ("phishing", {"kind": "covariate"}, {"shift_feature": "colour"}, "stream.shift_feature='colour' is not one of"),
        ("bananas", {"kind": "covariate"}, {"n_offline": 5250}, "stream.n_offline=5250 is outside [10, "),
        ("bananas", {"kind": "covariate"}, {"shift_side": "left"},
         "stream.shift_side='left' is not one of ['high', 'low']"),
        ("hyperplane", {}, {"n_drift_features": 11}, "stream.n_drift_features=11 is outside [1, stream.n_features]"),
        ("sea", {}, {"n_classes": 3}, "stream.n_classes=3 is fixed at 2 for stream=sea"),
    ],
)
def test_bad_input_is_a_config_error_naming_key_value_and_choices(family, drift, stream, message):
    kind = drift.pop("kind", "concept")
    pattern = drift.pop("pattern", "sudden")
    severity = drift.pop("severity", 1.0)
    with pytest.raises(ConfigError) as error:
        make(family, kind, pattern, severity=severity, stream=stream, drift_overrides=drift)
    assert message in str(error.value)


def test_unknown_family_names_the_families():
    with pytest.raises(ConfigError, match=r"stream.family='river' is not one of \['agrawal', 'bananas'"):
        build_stream({"family": "river"}, {"kind": "none", "pattern": "none", "severity": 0, "onset": 0, "width": 0}, 0)


@pytest.mark.parametrize("overrides", [["stream.n_featurs=3"], ["stream=sea", "stream.n_features=3"],
                                       ["stream=phishing", "stream.hidden=3"]])  # fmt: skip
def test_a_misspelled_stream_key_fails_at_composition_naming_it(overrides):
    with pytest.raises(ConfigCompositionException, match=overrides[-1].split("=")[0].replace(".", r"\.")):
        compose_config(overrides)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_composes_from_conf_and_builds(family):
    cfg = compose_config([f"stream={family}", *SMALL.get(family, [])])
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    assert stream.family == family and stream.n_features >= 2 and stream.n_classes >= 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        ["stream=gaussian_classes", "drift=label"],
        ["stream=sea", "drift=recurring", "drift.period=300"],
        ["stream=phishing", *SMALL["phishing"], "drift=covariate", "drift.pattern=incremental", "drift.width=300"],
    ],
)
def test_a_tiny_run_of_another_family_writes_stream_png(tmp_path, overrides):
    run(compose_config([*overrides, "strategy=[frozen]"]), tmp_path)
    assert (tmp_path / "stream.png").stat().st_size > 10_000 and (tmp_path / "result.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_tiny_run_of_every_family(tmp_path, family):
    reads = {"features": ["strategy=[frozen,river_logreg]"],
             "tokens": ["model=text", "strategy=[frozen,river_text_nb]"]}  # what the stream's rows are
    run(compose_config([f"stream={family}", *SMALL.get(family, []), *reads[stream_tags(FAMILIES[family]).inputs]]), tmp_path)
    assert (tmp_path / "stream.png").is_file() and (tmp_path / "result.json").is_file()
