"""The run's fingerprint covers the source of the user's code it names: the same command after an
edit of a user's strategy module is not skipped as finished, and the message names the file."""

from __future__ import annotations

import hashlib

import pytest

import harness
from harness.validation.errors import RunDirectoryError
from tests.conftest import compose_config

SOURCE = '''
import numpy as np
from harness.strategies import BaseStrategy


class Uniform(BaseStrategy):
    """Every class equally likely."""

    def __init__(self, n_classes: int = 3):
        self.n_classes = n_classes

    def predict_proba(self, X):
        return np.full((len(X), self.n_classes), 1 / self.n_classes)

    def learn(self, X, y):
        pass
'''


def test_an_edited_user_module_is_not_skipped_as_finished(tmp_path, monkeypatch):
    module = tmp_path / "code" / "edited_user_strategy.py"
    module.parent.mkdir()
    module.write_text(SOURCE)
    monkeypatch.syspath_prepend(str(module.parent))
    overrides = ["strategy=[frozen]", "+strategy.mine._target_=edited_user_strategy.Uniform",
                 "+strategy.mine.n_classes=${stream.n_classes}", "monitor.enabled=false", "figures=false"]
    out = tmp_path / "run"
    first = harness.run_experiment(compose_config(overrides), out)
    assert first.result["user_code"] == {"edited_user_strategy": hashlib.sha256(SOURCE.encode()).hexdigest()}
    again = harness.run_experiment(compose_config(overrides), out)  # unchanged: skipped, the same record
    assert again.result["finished_at"] == first.result["finished_at"]

    module.write_text(SOURCE.replace("equally likely", "equally likely, edited"))
    with pytest.raises(RunDirectoryError, match=rf"the source of edited_user_strategy \({module}\) changed since "
                                                r"the run\); choose another directory, or rerun=true"):
        harness.run_experiment(compose_config(overrides), out)
    redone = harness.run_experiment(compose_config([*overrides, "rerun=true"]), out)
    assert redone.result["user_code"]["edited_user_strategy"] == hashlib.sha256(module.read_bytes()).hexdigest()
    assert redone.result["config_sha256"] != first.result["config_sha256"]
