"""Every key a command line sets is one of the configuration's, checked before Hydra runs.

Hydra answers a misspelt key (``drift.sevrity=0.5``) with the hint to append it with ``+``, and the
``+`` then leads to the harness's own message; this module gives that message first: the key, the
node it is not a key of, the closest key and the allowed ones. The node's keys are those of the
config composed with the command line's group choices (``stream=``, ``strategy=``, ``experiment=``,
...): the typed schemas of ``harness/validation/config.py``, the stream family's schema
(``harness/streams/schemas.py``) and, under ``strategy.<name>``, the strategy's constructor."""

from __future__ import annotations

import inspect

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig

from harness.validation import config, validate
from harness.validation.errors import ConfigError


def check_override_keys(overrides: list[str]) -> None:
    """Raise a ``ConfigError`` for the first ``key=value`` whose key the composed config does not have.
    ``+key`` (add), ``++key`` and ``~key`` are left to Hydra and the checks after composition, as are
    ``hydra.*`` keys and the keys under a group swept over several choices (their node differs per job)."""
    parser, names = OverridesParser.create(), config.group_names()
    choices, keys, swept = [], [], set()
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception:
            continue  # Hydra reports its own syntax errors (or it is the value of --cfg, -c, ...)
        key = override.key_or_group
        if key in names:
            if override.is_sweep_override():
                swept.add(key)
            else:
                choices.append(text)
        elif not (override.is_add() or override.is_force_add() or override.is_delete()
                  or key.startswith("hydra") or "/" in key or "@" in key):
            keys.append(key)
    if not keys or "experiment" in swept:
        return
    try:
        cfg = config.compose_config(choices)
    except Exception:
        return  # a bad group choice: Hydra names it and lists the options
    for key in keys:
        if key.split(".")[0] not in swept:
            check_key(cfg, key)


def check_key(cfg: DictConfig, key: str) -> None:
    """Walk ``key``'s dotted path through ``cfg``; the first part missing from a mapping is refused, and
    so is a part of a list that is not a position (OmegaConf would answer it with a bare TypeError)."""
    node, path = cfg, []
    for part in key.split("."):
        if isinstance(node, ListConfig):
            if not part.isdigit():
                raise ConfigError(f"{key}: {'.'.join(path)} is a list, indexed by position (0 to {len(node) - 1});"
                                  f" {part!r} is not a position")
            part = int(part)  # beyond the list: Hydra names the index
        elif not isinstance(node, DictConfig):
            return  # inside a value: the checks after composition judge it
        elif part not in node.keys():  # keys(), not `in`: a missing value (???) is still a key
            allowed = allowed_keys(node, path)
            if allowed is None:
                return
            validate.known_keys(".".join(path), [part], allowed, node=describe(cfg, path))
        try:
            node = node[part]
        except Exception:
            return  # a missing or unresolvable value, or an index beyond a list: judged after composition
        path.append(str(part))


def allowed_keys(node: DictConfig, path: list[str]) -> list[str] | None:
    """The keys ``node`` (at ``path``) accepts: a strategy's constructor arguments under
    ``strategy.<name>``, the node's own keys elsewhere; ``None`` when they cannot be known here."""
    if path[:1] == ["strategy"] and len(path) > 2:
        return None  # inside a strategy's arguments (a River model's): its own constructor decides
    if len(path) == 2 and path[0] == "strategy":
        try:
            cls = get_object(node.get("_target_"))
            parameters = inspect.signature(cls).parameters
        except Exception:
            return None  # a target that cannot be imported: the checks after composition say so
        return [p for p in parameters if p not in ("self", "args", "kwargs")]
    return [str(k) for k in node.keys()]


def describe(cfg: DictConfig, path: list[str]) -> str:
    """How the message names the node: ``stream=sea`` for a stream, the strategy's class, the path."""
    if path == ["stream"]:
        return f"stream={cfg.stream.family}"
    if len(path) == 2 and path[0] == "strategy":
        return f"strategy.{path[1]} ({cfg.strategy[path[1]].get('_target_')})"
    if path == ["strategy"]:
        return "strategy (the chosen strategies)"
    return ".".join(path) or "the configuration"
