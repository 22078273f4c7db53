"""Code named by a configuration: every ``_target_`` anywhere in the tree is decided before anything
is instantiated or called.

Hydra's ``instantiate`` calls whatever a ``_target_`` names, at any depth (dicts in lists in lists,
``_args_`` entries), so a check that knows a few nesting shapes misses the others. :func:`check_targets`
walks the whole resolved tree once and applies the rule of the slot each ``_target_`` sits in:

- ``strategy.<name>._target_``: a class implementing the strategy protocol;
- any ``_target_`` below a strategy: a River class (``river.base.Base`` subclass);
- ``stream._target_``: a :class:`harness.streams.Stream` subclass (``stream=custom``);
- ``model._target_``: a factory of an ``nn.Module`` (:func:`harness.offline.user.model_factory`);
- anywhere else: refused, with its full path.

Hydra's other special keys change what ``instantiate`` returns (``_partial_``: a ``functools.partial``
instead of the object; ``_recursive_: false``: nested nodes left as configs), so they are refused too.
"""

from __future__ import annotations

from collections.abc import Mapping

from hydra.utils import get_object
from river import base as river_base

from harness.validation import validate
from harness.validation.errors import ConfigError

RIVER_COUNTS = {"n_models": 1, "n_neighbors": 1, "window_size": 1, "grace_period": 1, "memory_estimate_period": 1}
RIVER_SIZES = ("max_size",)  # MiB, > 0
SPECIAL = ("_partial_", "_recursive_", "_convert_")  # Hydra keys that change what instantiate returns
SLOTS = ("strategy.<name>._target_ (a strategy class), River classes inside a strategy's arguments, "
         "stream._target_ (stream=custom) and model._target_ (model=pretrained)")


def walk(node, path: str = ""):
    """``(path, mapping)`` of every mapping in a nested dict/list tree, ``node`` included, at any depth;
    list items as ``key[i]``, so that a message names the exact place."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


def check_targets(tree: Mapping) -> None:
    """Decide every ``_target_`` of the resolved config ``tree`` (a plain container) by its slot;
    raises ConfigError naming the full path. Imports, never calls, what the targets name."""
    for path, node in walk(tree):
        for key in SPECIAL:
            if key in node:
                raise ConfigError(f"{path}.{key}={node[key]!r} is not allowed: the harness builds every object "
                                  "itself (a partial or an unbuilt node would reach the run as garbage)")
        if node.get("_target_") is None:  # model._target_'s default; Hydra builds nothing from null
            continue
        target = node["_target_"]
        where = f"{path}._target_"
        if not isinstance(target, str) or not target:
            raise ConfigError(f"{where}={target!r} is not a dotted path to a class (module.Class)")
        _check_slot(path, where, target, node)


def _check_slot(path: str, where: str, target: str, node: Mapping) -> None:
    """Apply the rule of the slot ``path`` to ``target``."""
    parts = path.split(".", 2)
    if path == "stream":
        from harness.streams.families import user_class

        user_class(target)
    elif path == "model":
        from harness.offline.user import model_factory

        model_factory(target)
    elif parts[0] == "strategy" and len(parts) == 2 and "[" not in parts[1]:
        from harness.validation.checks import strategy_class

        strategy_class(parts[1], target)
    elif parts[0] == "strategy" and len(parts) >= 2:
        _check_river(where, target, node)
    else:
        raise ConfigError(f"{where}={target!r} is in no place that names code; only {SLOTS} do")


def _check_river(where: str, target: str, node: Mapping) -> None:
    """An object built inside a strategy's arguments (a River model, engine or detector) must be a
    River object. River takes counts of 0 or a negative size without a word and then predicts
    uniformly, so the counts and sizes of the River objects in conf/strategy are checked here."""
    path = where.removesuffix("._target_")
    cls = _import(where, target)
    if not (isinstance(cls, type) and issubclass(cls, river_base.Base)):
        raise ConfigError(f"{where}={target!r} is not a River class (river.*)")
    for key, low in RIVER_COUNTS.items():
        if key in node:
            validate.integer(f"{path}.{key}", node[key], low)
    for key in RIVER_SIZES:
        if key in node:
            validate.number(f"{path}.{key}", node[key], 0, low_open=True)


def _import(where: str, target: str):
    try:
        return get_object(target)
    except Exception as error:
        raise ConfigError(f"{where}={target!r} cannot be imported: {error}") from None
