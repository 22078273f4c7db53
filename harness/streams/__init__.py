"""Streams whose drift is known exactly (synthetic families, River's generators, real data with
induced shift) and tables of real data with their own, natural drift (a user's file, NOAA weather). :func:`build_stream` checks every value before anything is drawn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from harness import validate
from harness.errors import ConfigError
from harness.streams.base import KINDS, PATTERNS, DeployData, DriftSchedule, OfflineData
from harness.streams.gaussian import GaussianClassesStream
from harness.streams.real import BananasStream, PhishingStream
from harness.streams.schemas import SCHEMAS
from harness.streams.river_generators import (
    AgrawalStream,
    HyperplaneStream,
    LEDStream,
    MixedStream,
    RandomRBFDriftStream,
    SEAStream,
    SineStream,
    STAGGERStream,
)
from harness.streams.table import TableStream
from harness.streams.teacher import TeacherStream
from harness.streams.weather import WeatherStream

FAMILIES = {
    cls.family: cls
    for cls in (
        TeacherStream,
        GaussianClassesStream,
        SEAStream,
        AgrawalStream,
        HyperplaneStream,
        RandomRBFDriftStream,
        STAGGERStream,
        SineStream,
        MixedStream,
        LEDStream,
        PhishingStream,
        BananasStream,
        TableStream,
        WeatherStream,
    )
}


def patterns_of(cls) -> tuple[str, ...]:
    return getattr(cls, "patterns", PATTERNS)


def build_stream(stream: Mapping, drift: Mapping, seed: int):
    """The stream named by ``stream.family`` with the drift ``drift``; checks every value, draws nothing.
    Keys are checked against the family's schema and :class:`DriftSchedule`, then each value."""
    params = dict(stream)
    family = validate.choice("stream.family", params.pop("family"), sorted(FAMILIES))
    cls = FAMILIES[family]
    validate.seed("seed", seed)
    allowed = [f.name for f in fields(SCHEMAS[family]) if f.name != "family"]
    validate.known_keys("stream", params, allowed, node=f"stream={family}")
    validate.known_keys("drift", drift, [f.name for f in fields(DriftSchedule)])
    schedule = DriftSchedule(**dict(drift))
    if getattr(cls, "natural_drift", False):  # real data: drift.* is recorded as ignored, not applied
        return cls(schedule, seed=seed, **params)
    for key, value, supported in (("kind", schedule.kind, cls.kinds), ("pattern", schedule.pattern, patterns_of(cls))):
        if value not in supported:
            able = [name for name, other in FAMILIES.items()
                    if value in (other.kinds if key == "kind" else patterns_of(other))]  # fmt: skip
            raise ConfigError(
                f"drift.{key}={value!r} is not supported by stream={family} (it supports {list(supported)}); "
                f"streams that support it: {able}"
            )
    return cls(schedule, seed=seed, **params)


__all__ = ["DeployData", "DriftSchedule", "OfflineData", "build_stream", "FAMILIES", "KINDS", "PATTERNS"]
