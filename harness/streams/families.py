"""Which class a ``stream.*`` node builds: a family of this harness by ``stream.family``, or a user's
own :class:`~harness.streams.stream.Stream` subclass by ``stream._target_`` with ``stream=custom``."""

from __future__ import annotations

from collections.abc import Mapping

from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from harness.streams.gaussian import GaussianClassesStream
from harness.streams.prompts import PromptsStream
from harness.streams.real import BananasStream, PhishingStream
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
from harness.streams.stream import Stream, config_keys, config_parameters, stream_tags
from harness.streams.table import TableStream
from harness.streams.teacher import TeacherStream
from harness.streams.weather import WeatherStream
from harness.validation import validate
from harness.validation.errors import ConfigError

FAMILIES: dict[str, type[Stream]] = {
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
        PromptsStream,
    )
}
CUSTOM = "custom"  # stream=custom: the class named by stream._target_
SHARED = ("n_classes",)  # keys every stream has, read by strategies as ${stream.<key>}


def stream_class(node: Mapping) -> type[Stream]:
    """The class of a ``stream.*`` node, checked; reads no value but ``family`` and ``_target_``."""
    family = validate.choice("stream.family", node.get("family"), [*sorted(FAMILIES), CUSTOM])
    return user_class(target_of(node)) if family == CUSTOM else FAMILIES[family]


def target_of(node: Mapping) -> str | None:
    """``node._target_``, or ``None`` when it is absent or still ``???``."""
    if isinstance(node, DictConfig) and "_target_" in node and OmegaConf.is_missing(node, "_target_"):
        return None
    return node.get("_target_")


def user_class(target: str | None) -> type[Stream]:
    """The :class:`Stream` subclass ``target`` names, refused (before anything is built) when it
    cannot be imported, is not a Stream, or declares no number of classes."""
    if target is None:
        raise ConfigError("stream=custom needs stream._target_=<module.Class>, a subclass of harness.streams.Stream")
    try:
        cls = get_object(target)
    except Exception as error:
        raise ConfigError(f"stream._target_={target!r} cannot be imported: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, Stream)):
        raise ConfigError(f"stream._target_={target!r} is not a subclass of harness.streams.Stream")
    missing = [f"{name}()" for name in ("offline", "deploy") if not callable(getattr(cls, name, None))]
    if missing:
        raise ConfigError(f"stream._target_={target!r} lacks the stream's {', '.join(missing)}")
    try:
        stream_tags(cls)  # its declared capabilities, each with the members it promises
    except ConfigError as error:
        raise ConfigError(f"stream._target_={target!r}: {error}") from None
    for key in SHARED:
        if key not in config_keys(cls):
            raise ConfigError(f"stream._target_={target!r} declares no {key}: take it as an argument "
                              f"({key}: int = ...) or fix it in the class (fixed = {{{key!r}: ...}})")
    return cls


def stream_default(name: str, *, _parent_) -> object:
    """Resolver ``${stream_default:<name>}`` of ``conf/stream/custom.yaml``: the default the class
    named by the node's ``_target_`` gives ``name`` (a constructor default or a ``fixed`` value)."""
    cls = user_class(target_of(_parent_))
    if name in cls.fixed:
        return cls.fixed[name]
    parameter = config_parameters(cls).get(name)
    if parameter is None or parameter.default is parameter.empty:
        raise ConfigError(f"stream.{name} has no default in {cls.name()}: give stream.{name}=<value>")
    return parameter.default
