"""The per-key checks of the configuration, derived from the typed schemas of :mod:`harness.validation.config`.

Each key's type comes from its dataclass field (``bool``, ``int``, ``float``, ``str``, ``Optional``,
``List``); its range or choices from :data:`RULES`, declared once here. :func:`check_schema` checks
every key of a config against both; :func:`check_value` checks one (``DriftSchedule`` uses it for its
own fields, so a drift setting has one rule whether it comes from a config or from Python).
:func:`check_arguments` checks the options of a class Hydra instantiates (the sweep callback) the same
way, typed by the class's own signature.

A config edited in Python (``cfg.quiet = "yes"``) reaches these checks as given: a list where a number
belongs, a word where a boolean does, an empty list where one item is needed are all refused here,
with the key, the value and what is allowed, as from the command line.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping

from harness import cpu_count
from harness.validation import validate
from harness.validation.errors import ConfigError


def _choices(name: str):
    """Choices that live with the code that reads them, imported when checked (no import cycle)."""
    def load():  # the figures and drift choices without torch: the command line checks them in a sweep's parent
        if name == "figures":
            from harness.results.figure_names import FIGURES

            return FIGURES
        if name.startswith("drift."):
            from harness.streams.base import KINDS, PATTERNS, TRANSITIONS

            return {"drift.kind": KINDS, "drift.pattern": PATTERNS, "drift.transition": TRANSITIONS}[name]
        from harness.offline.models import MODEL_KINDS
        from harness.offline.text_model import VOCABS
        from harness.offline.tune import PRUNERS, SAMPLERS
        from harness.offline.user import OUTPUTS

        return {"model.kind": (*MODEL_KINDS, "pretrained"), "model.vocab": VOCABS, "model.outputs": OUTPUTS,
                "offline.sampler": SAMPLERS, "offline.pruner": PRUNERS}[name]
    return load


# key -> range (low, high, low_open, high_open), choices, "seed" or "learning_rate"; list items take their list's rule
RULES: dict[str, dict] = {
    "seed": {"seed": True},
    "threads": {"low": 1, "cpus": True},
    "drift.kind": {"choices": _choices("drift.kind")},
    "drift.pattern": {"choices": _choices("drift.pattern")},
    "drift.severity": {"low": 0, "high": 1},
    "drift.width": {"low": 0},
    "drift.period": {"low": 0},
    "drift.transition": {"choices": _choices("drift.transition")},
    "drift.fault": {"faults": True},  # one name or a list (harness.streams.faults.fault_names); null: none
    "model.kind": {"choices": _choices("model.kind")},
    "model.depth": {"low": 0},
    "model.vocab": {"choices": _choices("model.vocab")},
    "model.buckets": {"low": 1},
    "model.outputs": {"choices": _choices("model.outputs")},
    "model.lr": {"learning_rate": True},
    "model.batch_size": {"low": 1},
    "model.weight_decay": {"low": 0},
    "offline.n_trials": {"low": 1},
    "offline.max_epochs": {"low": 1},
    "offline.patience": {"low": 1},
    "offline.sampler": {"choices": _choices("offline.sampler")},
    "offline.pruner": {"choices": _choices("offline.pruner")},
    "offline.search.lr": {"learning_rate": True},
    "offline.search.batch_size": {"low": 1},
    "offline.search.weight_decay": {"low": 0},
    "offline.search.width": {"low": 1},
    "replay.label_delay": {"low": 0},
    "replay.label_fraction": {"low": 0, "high": 1, "low_open": True},
    "replay.serve_batch": {"low": 0},
    "replay.chunk": {"low": 1},
    "replay.latency_requests": {"low": 0},
    "metrics.confidence_threshold": {"low": 0, "high": 1},
    "metrics.window": {"low": 1},
    "metrics.recovery_tolerance": {"low": 0},
    "metrics.max_detection_delay": {"low": 0},
    # the sweep callback's options (harness.pipeline.sweep.SweepCallback), typed by its signature
    "hydra.callbacks.sweep.poll_s": {"low": 0, "high": 3600, "low_open": True},
    "hydra.callbacks.sweep.figures": {"choices": _choices("figures"), "empty": True},  # []: no figure
    "hydra.callbacks.sweep.reference": {"choices": _choices("figures"), "empty": True},
}
SKIPPED = ("stream", "strategy")  # typed by their classes' constructors (harness.streams, harness.validation.checks)


def check_value(key: str, value, kind, *, shown: str | None = None) -> None:
    """``value`` has the schema type ``kind`` and obeys the rule of ``key``; raises ConfigError naming
    ``shown`` (default ``key``; a list's items as ``key[i]``)."""
    shown = shown or key
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if value is None:
            return
        kind = next(arg for arg in args if arg is not type(None))
        origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (list, typing.List):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{shown}={value!r} is not a list")
        if not value and not RULES.get(key, {}).get("empty"):
            raise ConfigError(f"{shown}=[] is empty; give at least one value")
        for i, item in enumerate(value):
            check_value(key, item, args[0] if args else typing.Any, shown=f"{shown}[{i}]")
            if item in value[:i]:  # a detector, coverage or figure twice would be computed and shown twice
                raise ConfigError(f"{shown}={list(value)!r} names {item!r} twice; give each value once")
        return
    if kind is bool:
        validate.boolean(shown, value)
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{shown}={value!r} is not a string")
    elif kind in (int, float):
        (validate.integer if kind is int else validate.number)(shown, value)
    _check_rule(shown, value, RULES.get(key, {}))


def _check_rule(key: str, value, rule: dict) -> None:
    if rule.get("faults"):
        from harness.streams.faults import fault_names

        if value is not None:
            fault_names(value)
    elif "choices" in rule:
        validate.choice(key, value, rule["choices"]())
    elif rule.get("seed"):
        validate.seed(key, value)
    elif rule.get("learning_rate"):
        validate.learning_rate(key, value)
    elif "low" in rule or "high" in rule:
        validate.number(key, value, rule.get("low"), rule.get("high"), low_open=rule.get("low_open", False),
                        high_open=rule.get("high_open", False))
    if rule.get("cpus") and value > cpu_count():
        raise ConfigError(f"{key}={value} exceeds the {cpu_count()} CPUs this process may use; more threads "
                          "than CPUs only slow torch and BLAS down")


def check_schema(tree: Mapping, schema: type | None = None, prefix: str = "") -> None:
    """Every key of the resolved config ``tree`` (a plain container) that ``schema`` (default: the
    top-level :class:`harness.validation.config.Config`) types, checked by :func:`check_value`, nested dataclasses
    included. Keys the schema does not know are :func:`harness.validation.checks.check_keys`'s."""
    if schema is None:
        from harness.validation.config import Config

        schema = Config
    for field in dataclasses.fields(schema):
        key = prefix + field.name
        if key in SKIPPED or field.name not in tree:
            continue
        kind = typing.get_type_hints(schema)[field.name]
        value = tree[field.name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key}={value!r} is not a group of settings ({key}.<key>=...)")
            check_schema(value, kind, f"{key}.")
        elif field.name != "_target_":  # decided by harness.validation.targets
            check_value(key, value, kind)


def check_arguments(tree: Mapping, function, prefix: str) -> None:
    """The keyword arguments ``tree`` (a plain container, ``_target_`` aside) that the node ``prefix``
    gives ``function``: every key one of its parameters, every required one given, every value of its
    annotated type and obeying the rule of ``prefix.<key>``; raises ConfigError."""
    parameters = {name: p for name, p in inspect.signature(function).parameters.items()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"}
    given = [key for key in tree if key != "_target_"]
    validate.known_keys(prefix, given, parameters)
    for name, parameter in parameters.items():
        if parameter.default is inspect.Parameter.empty and name not in tree:
            raise ConfigError(f"{prefix}.{name} is missing: {prefix} needs it")
    hints = typing.get_type_hints(function)
    for key in given:
        check_value(f"{prefix}.{key}", tree[key], hints.get(key, typing.Any))
