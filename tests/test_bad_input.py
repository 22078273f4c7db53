"""Every bad value fails before any compute, names the key, the value and what is allowed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from harness.errors import ConfigError
from harness.run import run
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[1]

BAD_VALUES = [
    ("drift.severity=1.7", r"drift.severity=1.7 is outside \[0, 1\]"),
    ("drift.severity=-0.1", r"drift.severity=-0.1 is outside \[0, 1\]"),
    ("drift.kind=banana", r"drift.kind='banana' is not one of \['none', 'covariate', 'concept', 'label', 'novel'\]"),
    ("drift.pattern=zigzag", r"drift.pattern='zigzag' is not one of"),
    ("drift.onset=-5", r"drift.onset=-5 is outside \[0, stream.n_deploy=1200\)"),
    ("drift.onset=5000", r"drift.onset=5000 is outside \[0, stream.n_deploy=1200\)"),
    ("drift=gradual", r"drift.onset \+ drift.width = 2000 exceeds stream.n_deploy=1200"),
    ("stream.n_classes=1", r"stream.n_classes=1 must be >= 2"),
    ("stream.family=elec2", r"stream.family='elec2' is not one of \['agrawal', 'bananas', "),
    ("model.kind=transformer", r"model.kind=transformer is invalid: must be one of \['mlp', 'logistic'\]"),
    ("replay.label_delay=-1", r"replay.label_delay=-1 is invalid"),
    ("metrics.confidence_threshold=1.5", r"metrics.confidence_threshold=1.5 is invalid: must be in \[0, 1\]"),
    ("offline.search.lr=[]", r"offline.search.lr=\[\] is empty"),
    ("strategy=[]", r"strategy=\[\] is empty"),
    ("+strategy.frozen.stepp=3", r"strategy.frozen.stepp is not an argument of .*Frozen; allowed: \['step', 'calibrated'\]"),
]


@pytest.mark.parametrize("override, message", BAD_VALUES, ids=[o for o, _ in BAD_VALUES])
def test_bad_value_is_refused_before_any_file_is_written(override, message, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=message):
        run(compose_config([override]), out)
    assert not out.exists()


@pytest.mark.parametrize("override", ["drift.sevrity=0.5", "drift.severity=abc", "strategy=[frozen,banana]"])
def test_misspelled_key_or_wrong_type_fails_at_composition(override):
    with pytest.raises(ConfigCompositionException):
        compose_config([override])


@pytest.mark.parametrize(
    "override, message",
    [
        ("drift.severity=1.7", "drift.severity=1.7 is outside [0, 1]"),
        ("strategy=[frozen,banana]", "strategy=banana is not a strategy; available: ['finetune', 'frozen'"),
        ("drift.sevrity=0.5", "Key 'sevrity' not in 'DriftConf'"),
    ],
)
def test_command_line_exits_non_zero_with_the_message(override, message, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "harness.run", override, f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert message in done.stderr
    assert not (tmp_path / "run" / "result.json").exists()
