"""Synthetic streams whose drift is known exactly."""

from __future__ import annotations

from collections.abc import Mapping

from harness.errors import ConfigError
from harness.streams.base import DeployData, DriftSchedule, OfflineData
from harness.streams.teacher import TeacherStream

FAMILIES = {"teacher": TeacherStream}


def build_stream(stream: Mapping, drift: Mapping, seed: int):
    """The stream named by ``stream.family`` with the drift ``drift``; checks every value, draws nothing."""
    params = dict(stream)
    family = params.pop("family")
    if family not in FAMILIES:
        raise ConfigError(f"stream.family={family!r} is not one of {sorted(FAMILIES)}")
    schedule = DriftSchedule(**dict(drift))
    return FAMILIES[family](schedule, seed=seed, **params)


__all__ = ["DeployData", "DriftSchedule", "OfflineData", "build_stream", "FAMILIES"]
