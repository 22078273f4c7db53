"""Capabilities declared on a class, River-style: each class may set ``_more_tags`` (a dict of tag
name -> value); a base class's dataclass of tags holds every tag with its default, and
:func:`collect` merges the declarations along the class's MRO (a subclass overrides its bases).

The strategies' tags (:class:`harness.strategies.base.Tags`) and the streams' tags
(:class:`harness.streams.stream.StreamTags`) are both read through here, so that an unknown tag, a
value outside the allowed ones and a capability still set as a plain attribute are refused the same
way, naming the class, the tag and what is allowed.
"""

from __future__ import annotations

from dataclasses import fields

from harness.validation.errors import ConfigError


def collect(cls: type, kind: type, *, what: str, legacy: tuple[str, ...] = ()):
    """The tags of ``cls`` as an instance of the frozen dataclass ``kind``: its defaults, overridden
    by each ``_more_tags`` from the most basic class to ``cls``. ``legacy`` are tag names a class used
    to set as plain attributes: one still set so is refused (it would be silently ignored).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Kind:
    ...     colour: str = "grey"
    >>> class A:
    ...     _more_tags = {"colour": "red"}
    >>> class B(A):
    ...     _more_tags = {"size": 3}
    >>> collect(A, Kind, what="thing")
    Kind(colour='red')
    >>> collect(B, Kind, what="thing")
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: thing B declares an unknown tag 'size' in _more_tags; known tags: ['colour']
    """
    known = [f.name for f in fields(kind)]
    for name in legacy:
        if name in known and hasattr(cls, name):
            raise ConfigError(f"{what} {cls.__qualname__} sets {name} as an attribute; declare it as a tag instead: "
                              f"_more_tags = {{{name!r}: {getattr(cls, name)!r}}}")
    merged: dict = {}
    for klass in reversed(cls.__mro__):
        own = vars(klass).get("_more_tags") or {}
        if not isinstance(own, dict):
            raise ConfigError(f"{what} {klass.__qualname__}._more_tags={own!r} is not a dict of tag name -> value")
        for name in own:
            if name not in known:
                raise ConfigError(f"{what} {klass.__qualname__} declares an unknown tag {name!r} in _more_tags; "
                                  f"known tags: {known}")
        merged |= own
    try:
        return kind(**merged)
    except ValueError as error:
        raise ConfigError(f"{what} {cls.__qualname__}: {error}") from None


def check_choice(tag: str, value, allowed: tuple) -> None:
    """Refuse a tag value outside ``allowed`` (called by the tag dataclasses' ``__post_init__``)."""
    if value not in allowed:
        raise ValueError(f"tag {tag}={value!r} is not one of {list(allowed)}")
