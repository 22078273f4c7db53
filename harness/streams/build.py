"""Building a stream from its config nodes: every value checked before anything is drawn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from harness.streams.base import DriftSchedule
from harness.streams.families import FAMILIES, stream_class
from harness.streams.stream import Stream, check_types, config_keys
from harness.validation import validate
from harness.validation.errors import ConfigError


def build_stream(stream: Mapping, drift: Mapping, seed: int) -> Stream:
    """The stream of the node ``stream`` (``stream.family``, or ``stream._target_`` for a user's
    class) with the drift ``drift``; checks every value, draws nothing. Keys are checked against the
    class's constructor and :class:`DriftSchedule`, then each value."""
    cls = stream_class(stream)
    keys = [key for key in stream if key not in ("family", "_target_")]
    validate.known_keys("stream", keys, config_keys(cls), node=f"stream={cls.name()}")
    params = {key: stream[key] for key in keys}
    check_types(cls, params)
    validate.seed("seed", seed)
    validate.known_keys("drift", drift, [f.name for f in fields(DriftSchedule)])
    schedule = DriftSchedule(**dict(drift))
    problem = cls.unsupported(schedule)
    if problem:
        key, value, supported = problem
        able = [name for name, other in FAMILIES.items() if value in (other.kinds if key == "kind" else other.patterns)]
        raise ConfigError(
            f"drift.{key}={value!r} is not supported by stream={cls.name()} (it supports {list(supported)}); "
            f"streams that support it: {able}"
        )
    return cls.from_config(schedule, seed=seed, **params)
