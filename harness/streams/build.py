"""Building a stream from its config nodes: every value checked before anything is drawn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from omegaconf import ListConfig, OmegaConf

from harness.streams.base import DriftSchedule
from harness.streams.families import FAMILIES, stream_class
from harness.streams.faulty import FaultyStream, quiet_schedule
from harness.streams.stream import Stream, check_types, config_keys, stream_tags
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
    drift = dict(drift)
    fault, features = drift.pop("fault", None), drift.pop("features", None)
    validate.known_keys("drift", drift, [f.name for f in fields(DriftSchedule)])
    schedule = DriftSchedule(**drift)
    if schedule.kind == "pipeline":
        return faulty_stream(cls, schedule, seed, params, fault, features)
    for key, value in (("fault", fault), ("features", features)):
        if value is not None:
            raise ConfigError(f"drift.{key}={_plain(value)!r} applies only with drift.kind=pipeline "
                              f"(drift.kind={schedule.kind!r}); leave it null")
    problem = cls.unsupported(schedule)
    if problem:
        key, value, supported = problem
        able = [name for name, other in FAMILIES.items() if value in (other.kinds if key == "kind" else other.patterns)]
        raise ConfigError(
            f"drift.{key}={value!r} is not supported by stream={cls.name()} (it supports {list(supported)}); "
            f"streams that support it: {able}"
        )
    return cls.from_config(schedule, seed=seed, **params)


def faulty_stream(cls: type[Stream], schedule: DriftSchedule, seed: int, params: dict, fault, features):
    """``drift.kind=pipeline``: the stream drawn without drift of its own, its deployment features
    faulted (:mod:`harness.streams.faulty`); refused for a stream whose inputs are not numbers."""
    if stream_tags(cls).inputs != "features":
        able = sorted(name for name, other in FAMILIES.items() if stream_tags(other).inputs == "features")
        raise ConfigError(f"drift.kind='pipeline' is not supported by stream={cls.name()}: its rows are token ids, "
                          f"not numeric features a pipeline fault could change; streams that support it: {able}")
    inner = cls.from_config(quiet_schedule(schedule), seed=seed, **params)
    return FaultyStream(inner, schedule, _plain(fault), None if features is None else _plain(features))


def _plain(value):
    """A config node's value as plain Python (a ListConfig as a list)."""
    return OmegaConf.to_container(value) if isinstance(value, ListConfig) else value
