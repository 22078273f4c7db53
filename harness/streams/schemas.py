"""Config schemas of the streams, derived from their constructors (:func:`schema_of`) and registered
in Hydra's ConfigStore as ``schema/stream/<family>``; each ``conf/stream/<family>.yaml`` extends its
schema, so a misspelled ``stream.*`` key fails at composition naming the key. Nothing here is written
by hand: a default lives in the family's constructor signature only.

``schema/stream/custom`` is a plain node for a user's stream: ``_target_`` names the class, and
the shared keys default, through the ``${stream_default:...}`` resolver, to that class's own."""

from __future__ import annotations

import copy
import dataclasses

from omegaconf import MISSING, OmegaConf

from harness.streams.families import CUSTOM, FAMILIES, SHARED, stream_default
from harness.streams.stream import Stream, config_keys, config_parameters


def schema_of(cls: type[Stream]) -> type:
    """A dataclass with ``family`` and one field per config key of ``cls``: the constructor's
    parameters (annotation and default; ``???`` when it has none; the interpolation of
    :attr:`~harness.streams.stream.Stream.from_data` for a key read from the data) and the ``fixed``
    keys, in the order sizes, fixed keys, the family's own."""
    params = config_parameters(cls)
    fields = [("family", str, dataclasses.field(default=cls.family))]
    for name in config_keys(cls):
        if isinstance(cls.from_data.get(name), str):
            fields.append((name, params[name].annotation, dataclasses.field(default=cls.from_data[name])))
        elif name in params:
            fields.append(_field(name, params[name]))
        else:
            fields.append((name, type(cls.fixed[name]), dataclasses.field(default=cls.fixed[name])))
    return dataclasses.make_dataclass(f"{cls.__name__.removesuffix('Stream')}Conf", fields)


def _field(name: str, parameter) -> tuple:
    default = MISSING if parameter.default is parameter.empty else parameter.default
    if isinstance(default, (list, dict)):
        return name, parameter.annotation, dataclasses.field(default_factory=lambda: copy.deepcopy(default))
    return name, parameter.annotation, dataclasses.field(default=default)


def custom_node() -> dict:
    """The node of ``stream=custom``: the target, then every shared key defaulting to the target's."""
    shared = [*config_parameters(Stream), *SHARED]
    return {"family": CUSTOM, "_target_": MISSING, **{name: f"${{stream_default:{name}}}" for name in shared}}


SCHEMAS = {family: schema_of(cls) for family, cls in FAMILIES.items()}


def register(cs) -> None:
    """Store every family's schema in the ConfigStore ``cs`` as ``schema/stream/<family>``, outside the
    ``stream`` group so that ``stream=`` lists only the families; and the ``stream_default`` resolver."""
    for family, schema in SCHEMAS.items():
        cs.store(group="schema/stream", name=family, node=schema)
    cs.store(group="schema/stream", name=CUSTOM, node=custom_node())
    OmegaConf.register_new_resolver("stream_default", stream_default, replace=True)
