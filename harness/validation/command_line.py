"""The command line's checks, made before Hydra runs (``error: ...``, exit code 2, before any
directory exists): what Hydra accepts but should not, and ``_target_``s under ``hydra.``. Kept apart
from :mod:`harness.validation.checks` so that a command line is checked without importing torch or
River (about two seconds): a sweep's parent process, whose jobs run elsewhere, never needs them."""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from harness.streams.schemas import SCHEMAS
from harness.validation import validate
from harness.validation.argv import VALUE_FLAGS, runs_a_job
from harness.validation.config import Config, group_names, group_options, optional_groups
from harness.validation.errors import ConfigError
from harness.validation.settings import RULES, check_value
from hydra_plugins.harness_grid_sweeper.grid_sweeper import check_sweep_size


def leaf_types(schema, prefix: str = ""):
    """``(dotted key, type)`` of every leaf of a typed schema, nested dataclasses walked."""
    for name, kind in typing.get_type_hints(schema).items():
        if dataclasses.is_dataclass(kind):
            yield from leaf_types(kind, f"{prefix}{name}.")
        else:
            yield prefix + name, kind


def bool_keys() -> dict[str, bool]:
    """Dotted keys the schemas type as ``bool`` or ``Optional[bool]`` (the value: whether null is
    allowed): Hydra turns ``2`` or ``yes`` into ``True`` for them."""
    leaves = [*leaf_types(Config), *(leaf for schema in SCHEMAS.values() for leaf in leaf_types(schema, "stream."))]
    return {key: kind is not bool for key, kind in leaves if kind in (bool, typing.Optional[bool])}


def ruled_keys() -> dict[str, object]:
    """Dotted keys of :class:`Config` that :data:`harness.validation.settings.RULES` gives a range or
    choices, with their schema types: a swept value out of range is refused before the first job runs,
    not when its own job starts. A job's CPUs are checked where it runs."""
    return {key: kind for key, kind in leaf_types(Config) if key in RULES and not RULES[key].get("cpus")}


def _of_type(value, kind) -> bool:
    """``value``, as Hydra parsed it, is of the schema type ``kind`` (``Optional`` and ``List`` of
    ``bool``, ``int``, ``float``, ``str``), and no interpolation (resolved when the job runs)."""
    if isinstance(value, str) and "${" in value:
        return False
    if kind is typing.Any:
        return True
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # Optional[X]
        if value is None:
            return type(None) in typing.get_args(kind)
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    elif value is None:
        return False
    if typing.get_origin(kind) in (list, typing.List):
        return isinstance(value, list) and all(_of_type(item, typing.get_args(kind)[0]) for item in value)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def check_overrides(overrides: list[str]) -> None:
    """What Hydra accepts on the command line but should not: a number or a word for a boolean
    (``save_stream=2``), an unknown or repeated strategy (``strategy=[frozen,frozen]`` silently
    runs one), ``hydra.launcher.n_jobs=0``, a value swept twice (``seed=0,0``: one cell run twice), a
    deleted config group (``~drift``: the group's schema defaults, chosen by nobody). A key
    given twice with two values is noted on stderr (Hydra keeps the last one without a word), so
    that appending overrides to a base list keeps working and nobody is surprised."""
    booleans, ruled, groups, parser, given = bool_keys(), ruled_keys(), group_names(), OverridesParser.create(), {}
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception as error:
            _check_unquoted(text, error)
            continue  # Hydra reports its own syntax errors
        key = override.key_or_group.lstrip("+~")
        if key in given and given[key] != text:  # Hydra keeps the last one without a word
            print(f"note: {key} is given twice ({given[key]}, then {text}); the last one is used", file=sys.stderr)
        given[key] = text
        group = key in groups or "/" in key  # a group of conf/, or one of Hydra's (hydra/launcher)
        if override.is_delete():
            if "=" in text and group:  # ~drift=sudden deletes that option only
                _check_group_choice(key, override.value())
            if key in groups and key not in optional_groups():  # deleting an empty one deletes nothing
                _refuse_group_deletion(text, key)
            continue
        if override.is_discrete_sweep():
            try:
                check_sweep_size(override)
            except HydraException as error:
                raise ConfigError(str(error)) from None
        try:
            values = list(override.sweep_iterator()) if override.is_sweep_override() else [override.value()]
        except Exception:
            continue  # interval sweeps: Hydra's sweeper decides
        _check_distinct(key, values, text)
        for value in values:
            if key in booleans and not (value is None and booleans[key]):  # null only for Optional[bool]
                validate.boolean(key, value)
            elif key == "strategy":
                _check_strategy_list(value if isinstance(value, list) else [value])
            elif group:
                _check_group_choice(key, value)
            elif key == "hydra.launcher.n_jobs":
                _check_n_jobs(value)
            elif key == "hydra.sweeper.max_batch_size":
                _check_batch_size(value)
            elif key in ruled and _of_type(value, ruled[key]):  # a wrong type: Hydra's message, at composition
                check_value(key, value, ruled[key])


def _check_unquoted(text: str, error: Exception) -> None:
    """Hydra's grammar takes spaces and non-ASCII letters only inside quotes, and its message for them
    points at the character without saying so (a path such as ``/data/Müller`` is common).

    >>> _check_unquoted("hydra.run.dir=/data/Müller", ValueError("LexerNoViableAltException: ..."))
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: hydra.run.dir=/data/Müller cannot be parsed: a value holding spaces or non-ASCII characters is quoted: hydra.run.dir='/data/Müller'
    """
    key, _, value = text.partition("=")
    if value and value[0] not in "'\"" and any(not char.isascii() or char.isspace() for char in value):
        raise ConfigError(f"{text} cannot be parsed: a value holding spaces or non-ASCII characters is quoted: "
                          f"{key}='{value}'") from error


def _check_distinct(key: str, values: list, text: str) -> None:
    """A sweep names each value once: ``seed=0,0`` would run the same cell twice into one directory.
    In one pass, so that ``seed=range(1000000)`` is checked in a second."""
    seen = set()
    for value in values:
        try:
            hash(value)
            marker = (0, value)  # 1 and 1.0 are one value, as equality sees them
        except TypeError:  # a list (strategy=[a,b],[c]): equal lists print alike
            marker = (1, repr(value))
        if marker in seen:
            raise ConfigError(f"{text} sweeps {key}={value!r} twice; each cell runs once: give each value once")
        seen.add(marker)


def _check_batch_size(value) -> None:
    """The grid sweeper's ``max_batch_size``: jobs launched at a time, ``>= 1``, or -1 or null for all."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or (value < 1 and value != -1)):
        raise ConfigError(f"hydra.sweeper.max_batch_size={value!r} is invalid: must be an integer >= 1, or -1 (or null)"
                          " for one batch of every job")


def _check_n_jobs(value) -> None:
    """joblib's ``n_jobs``: ``>= 1`` workers, or negative to count back from the CPUs; 0 means nothing."""
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ConfigError(
            f"hydra.launcher.n_jobs={value!r} is invalid: must be an integer >= 1, "
            "or negative to count back from the number of CPUs (-1: all of them)"
        )


def _refuse_group_deletion(text: str, group: str) -> None:
    """``~drift`` (or ``~drift=sudden``, the option it holds) leaves the group's part of the config to its
    schema's defaults: a run of settings nobody chose, without a word.

    >>> _refuse_group_deletion("~monitor", "monitor")
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: ~monitor deletes the config group monitor: the run would take its schema's defaults without a word; choose its options instead (monitor=NAME); available: ['default', 'off']
    """
    chosen = "[NAME,...]" if group == "strategy" else "NAME"  # strategy takes a list of options
    raise ConfigError(f"{text} deletes the config group {group}: the run would take its schema's defaults without a "
                      f"word; choose its options instead ({group}={chosen}); available: {group_options(group)}")


def _check_group_choice(group: str, value) -> None:
    """A config group but ``strategy`` takes one option's name: Hydra stops on a number, a boolean or
    null with a traceback, and merges the options of a list (``drift=[sudden,gradual]`` runs a mixture
    of the two).

    >>> _check_group_choice("drift", [])
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: drift=[] is a list: the config group drift takes the name of one of its options; available: ['covariate', 'gradual', 'incremental', 'label', 'none', 'novel', 'pipeline', 'recurring', 'sudden']
    """
    if isinstance(value, str):
        return
    what = "a list" if isinstance(value, list) else "no option's name"
    options = group_options(group) if "/" not in group else []  # Hydra's own groups: Hydra lists them
    raise ConfigError(f"{group}={as_typed(value)} is {what}: the config group {group} takes the name of one of its "
                      "options" + (f"; available: {options}" if options else ""))


def as_typed(value) -> str:
    """A parsed command-line value as it is typed.

    >>> as_typed([None, True, 0.5, "a"])
    '[null,true,0.5,a]'
    """
    if isinstance(value, list):
        return f"[{','.join(map(as_typed, value))}]"
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _check_strategy_list(names: list) -> None:
    available = group_options("strategy")
    for i, name in enumerate(names):
        if name not in available:
            close = validate.did_you_mean(name, available)
            raise ConfigError(f"strategy={as_typed(name)} is not a strategy{close}; available: {available}")
        if name in names[:i]:
            raise ConfigError(f"strategy=[{','.join(map(str, names))}] names {name} twice; each strategy runs once")


def check_command_line(argv: list[str]) -> None:
    """:func:`check_overrides` on ``python -m harness.run``'s arguments: ``error: ...`` and exit code 2
    before Hydra makes a directory. Hydra lists the options of ``strategy=x`` but not of ``strategy=[x,y]``."""
    from harness.validation.hydra_values import check_hydra_values  # these two compose: imported only here
    from harness.validation.keys import check_override_keys

    if not runs_a_job(argv):  # help, completion, info
        return
    overrides = [arg for i, arg in enumerate(argv)
                 if not arg.startswith("-") and not (i and argv[i - 1] in VALUE_FLAGS)]
    try:
        check_hydra_targets(overrides)
        check_overrides(overrides)
        check_override_keys(overrides)
        check_hydra_values(overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def check_hydra_targets(overrides: list[str]) -> None:
    """Hydra instantiates ``hydra.callbacks.*`` (and its launcher and sweeper) itself, before any check
    of the harness runs, so a ``_target_`` given there on the command line would call any code:
    refused. The harness's callbacks are set in ``conf/config.yaml``, launchers by ``hydra/launcher=``.

    >>> check_hydra_targets(["+hydra.callbacks.x._target_=os.system", "seed=1"])
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: +hydra.callbacks.x._target_=os.system names code for Hydra to call before any check; the harness's callbacks are set in conf/config.yaml, launchers with hydra/launcher=<name>
    >>> check_hydra_targets(["+hydra.callbacks.sweep.figures=[]", "hydra.run.dir=runs/a_target_b"])
    >>> check_hydra_targets(["+hydra.callbacks.x={_target_: os.system}"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: +hydra.callbacks.x={_target_: os.system} names code for Hydra to call ...
    """
    for text in overrides:
        key, _, value = text.partition("=")
        names_code = key.endswith("_target_") or re.search(r"\b_target_\s*:", value)  # a key, or a dict value
        if key.lstrip("+~").startswith("hydra.") and names_code:
            raise ConfigError(f"{text} names code for Hydra to call before any check; the harness's callbacks are set "
                              "in conf/config.yaml, launchers with hydra/launcher=<name>")

