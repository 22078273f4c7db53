"""Generic checks of one configuration value, shared by every builder: each raises ConfigError naming
the key, the value and what is allowed, and returns the value when it is fine.

Builders that know their key in full (``stream.n_deploy``) pass it; strategy constructors pass their
argument's bare name (``lr``) and :func:`harness.validation.checks.build_strategies` prefixes ``strategy.<name>.``.
"""

from __future__ import annotations

import difflib
import math
import os
import tempfile
from collections.abc import Iterable
from numbers import Integral, Real
from pathlib import Path

from harness.validation.errors import ConfigError

SEED_MAX = 2**32 - 1  # numpy's SeedSequence and torch.manual_seed both take [0, 2**32 - 1]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` (difflib's ratio >= 0.75), else ``""``.

    >>> did_you_mean("sevrity", ["kind", "severity", "onset"])
    " (did you mean 'severity'?)"
    >>> did_you_mean("zzz", ["kind"])
    ''
    """
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(bound) -> str:
    """An integer in full, a float in at most 6 significant digits: ``4294967295``, ``0.333333``."""
    return str(bound) if isinstance(bound, Integral) else f"{bound:g}"


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """``[0, 1)``, ``>= 1`` or ``> 0``: the allowed range in the words of an error message."""
    if high is None:
        return f"> {_show(low)}" if low_open else f">= {_show(low)}"
    if low is None:
        return f"< {_show(high)}" if high_open else f"<= {_show(high)}"
    return f"{'(' if low_open else '['}{_show(low)}, {_show(high)}{')' if high_open else ']'}"


def number(key: str, value, low=None, high=None, *, low_open: bool = False, high_open: bool = False,
           bounds: str | None = None):
    """``value`` is a finite real number (not a bool) in the range from ``low`` to ``high``; ``bounds``
    words the range when its ends come from other keys (``[0, stream.n_deploy=1200)``).

    >>> number("drift.severity", 0.5, 0, 1)
    0.5
    >>> number("stream.gain", float("nan"))
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: stream.gain=nan is not a finite number
    >>> number("lr", -1, 0, low_open=True)
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: lr=-1 must be > 0
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{key}={value!r} is not a number")
    if not math.isfinite(value):
        raise ConfigError(f"{key}={value} is not a finite number")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        interval = bounds or _interval(low, high, low_open, high_open)
        verb = "is outside" if low is not None and high is not None else "must be"
        raise ConfigError(f"{key}={value} {verb} {interval}")
    return value


LR_MAX = 3.4e38  # torch's optimisers step by the learning rate as a float32: a larger one is infinite there
LR_MIN = 2.0**-149  # the smallest positive float32: a smaller learning rate is 0 there, and nothing learns


def learning_rate(key: str, value) -> float:
    """A learning rate: a number > 0 that a float32 holds, as torch's optimisers use it.

    >>> learning_rate("strategy.finetune.lr", 1e-50)
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: strategy.finetune.lr=1e-50 is below 1.4e-45, the smallest learning rate torch's optimisers can hold (a float32): it would be 0
    """
    number(key, value, 0, low_open=True)
    if value > LR_MAX:
        raise ConfigError(f"{key}={value:g} exceeds {LR_MAX:g}, the largest learning rate torch's optimisers can hold "
                          "(a float32)")
    if value < LR_MIN:
        raise ConfigError(f"{key}={value:g} is below {LR_MIN:.2g}, the smallest learning rate torch's optimisers can "
                          "hold (a float32): it would be 0")
    return value


def integer(key: str, value, low=None, high=None, *, bounds: str | None = None):
    """``value`` is an integer (not a bool) in ``[low, high]``: every count and size.

    >>> integer("strategy.frozen.step", 2.5, 1)
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: strategy.frozen.step=2.5 is not an integer
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ConfigError(f"{key}={value!r} is not an integer")
    return number(key, value, low, high, bounds=bounds)


def seed(key: str, value) -> int:
    """A seed numpy and torch both accept: an integer in ``[0, 2**32 - 1]``."""
    return integer(key, value, 0, SEED_MAX)


def boolean(key: str, value) -> bool:
    """``value`` is ``true`` or ``false``, not a number or a word that happens to convert."""
    if not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} is not a boolean; allowed: true, false")
    return value


def choice(key: str, value, allowed: Iterable):
    """``value`` is one of ``allowed``; the message suggests the closest one.

    >>> choice("drift.transition", "gradul", ["sudden", "gradual"])
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: drift.transition='gradul' is not one of ['sudden', 'gradual'] (did you mean 'gradual'?)
    """
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not one of {allowed}{did_you_mean(value, allowed)}")
    return value


def known_keys(where: str, keys: Iterable[str], allowed: Iterable[str], *, node: str | None = None) -> None:
    """Every key of the node ``where`` (``""`` for the top level) is one of ``allowed``; ``node`` names
    the node in the message when its path alone does not say enough (``stream=sea``).

    >>> known_keys("drift", ["kind", "sevrity"], ["kind", "severity"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: drift.sevrity is not a key of drift (did you mean 'severity'?); allowed: [...]
    """
    allowed = list(allowed)
    for key in keys:
        if key not in allowed:
            full = f"{where}.{key}" if where else str(key)
            raise ConfigError(
                f"{full} is not a key of {node or where or 'the configuration'}{did_you_mean(key, allowed)}; "
                f"allowed: {allowed}"
            )


def writable_directory(key: str, value, hint: str = "") -> None:
    """``value`` names a directory that exists or can be made, and written to (:func:`directory_problem`);
    ``hint`` ends the message (``(or offline.cache=false)``).

    >>> writable_directory("offline.cache_dir", "/dev/null")
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: offline.cache_dir='/dev/null' is a file: it must be a writable directory
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}={value!r} is not a path: it must name a writable directory")
    problem = directory_problem(Path(value).expanduser())
    if problem:
        raise ConfigError(f"{key}={value!r} {problem}" + (f" {hint}" if hint else ""))


def directory_problem(path: Path) -> str:
    """What keeps ``path`` from being a directory that exists or can be made, and written to: a file,
    a path under a file, a dangling or looping symbolic link on the way, an unwritable place; ``""``
    when nothing does. One rule for every directory the harness writes (a config's, ``--out``).

    >>> directory_problem(Path("/dev/null/x"))
    'is under /dev/null, which cannot hold it: it must be a writable directory'
    >>> directory_problem(Path("/proc"))  # root may write anywhere but there
    'is a directory this process cannot write in: it must be a writable directory'
    """
    existing = path
    try:
        while not existing.exists() and existing != existing.parent:
            if existing.is_symlink():  # exists() follows links: a dangling or looping one reads as absent
                return (f"passes through {existing}, a symbolic link that leads nowhere (dangling or looping): it "
                        "must be a writable directory")
            existing = existing.parent
    except OSError as error:  # a folder on the way that cannot be searched
        return f"cannot be reached: {error.strerror}: it must be a writable directory"
    if existing.is_dir() and os.access(existing, os.W_OK) and _can_make_in(existing):
        return ""
    if existing != path:
        return f"is under {existing}, which cannot hold it: it must be a writable directory"
    what = "a directory this process cannot write in" if existing.is_dir() else "a file"
    return f"is {what}: it must be a writable directory"


PROBE_PREFIX = ".harness-probe-"  # the empty directory _can_make_in makes and removes at once


def _can_make_in(directory: Path) -> bool:
    """A directory can be made in ``directory``: tried with an empty one of this call's own, removed
    at once (``os.access`` says yes to root on a read-only file system or ``/proc``)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=PROBE_PREFIX, dir=directory))
    except OSError:
        return False
    return True
