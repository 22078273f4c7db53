"""Shared fixtures: compose the real Hydra config, shrunk so that a whole run takes seconds."""

from __future__ import annotations

import os
import tempfile

import pytest

import harness
from harness.validation import config

CONF = config.CONF_DIR

# Scripts that make test data, not tests: the NannyML one runs in NannyML's own venv (its README)
collect_ignore_glob = ["data/*/*.py"]

# A complete run in a few seconds: small stream, two-trial search, short training.
TINY = [
    "stream.n_offline=800",
    "stream.n_deploy=1200",
    "drift.onset=500",
    "metrics.window=100",
    "offline.n_trials=2",
    "offline.max_epochs=15",
    "quiet=true",
]

# Columns and result.json keys that are measured times, or the process's memory, or follow from them
# (``files`` holds costs.csv's hash): they differ between any two runs of the same config.
TIMED = {"predict_s", "learn_s", "samples_per_s", "latency_p50_us", "latency_p99_us", "latency_p999_us",
         "latency_jitter", "latency_max_us", "peak_rss_bytes", "latency_us", "train_s", "wall_time_s", "finished_at",
         "files"}


def compose_config(overrides=(), *, tiny: bool = True):
    """The config ``python -m harness.run`` would see with these overrides (``harness.compose``)."""
    return harness.compose([*(TINY if tiny else []), *overrides])


def compose_with_hydra(overrides=()):
    """The config with its ``hydra`` node, as Hydra hands it to a sweep's callbacks and launcher, from
    these overrides alone (no TINY); ``harness.compose`` leaves that node out."""
    return config.compose_config(list(overrides), with_hydra=True)


@pytest.fixture
def compose_cfg():
    return compose_config


# Every test, and every command a test starts, trains into a cache of its own: a cache left by other
# code must never answer for the code under test.
os.environ["HARNESS_OFFLINE_CACHE"] = tempfile.mkdtemp(prefix="harness-offline-cache-")
