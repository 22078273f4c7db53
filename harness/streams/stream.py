"""The :class:`Stream` base class: what every stream shares, its constructor as the one source of
its parameters, and the capabilities a stream declares (:class:`StreamTags`, read through
:func:`stream_tags`). The data types a stream hands out (``DriftSchedule``, ``OfflineData``,
``DeployData``) are in :mod:`harness.streams.base`.

A stream (a family of this harness or a user's own) subclasses :class:`Stream`, takes its own
parameters as annotated keyword arguments with defaults, hands the shared ones on with
``super().__init__(schedule, **common)`` and writes ``offline()`` and ``deploy()`` (and
``post_drift()`` when the oracle bounds should run on it, declared with the tag ``post_drift``: see
:class:`StreamTags`). :func:`parameters` reads the parameters
off the constructors, following ``**common`` up to :class:`Stream`; the config schema
(:func:`harness.streams.schemas.schema_of`), the keys ``stream.*`` accepts and :meth:`Stream.describe`
are derived from it, so each default is written once.
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Optional

import numpy as np

from harness.streams.base import INPUTS, KINDS, PATTERNS, DriftSchedule, check_sizes
from harness.validation import validate
from harness.validation.errors import ConfigError
from harness.validation.tags import check_choice, collect

NOT_CONFIG = ("schedule", "seed")  # constructor arguments the run passes itself, not keys of stream.*
TABLE = ("tokens", "words", "oov_share")  # what a stream with a token table implements


@dataclass(frozen=True)
class StreamTags:
    """What a stream declares about itself, each with its default (River's ``_tags``): a class
    declares the ones it changes in ``_more_tags``, and :func:`stream_tags` reads them.

    - ``inputs``: what a row of X is: ``features`` (numbers a model may compute with) or ``tokens``
      (ids, 0 = padding, whose order means nothing): ``model=text`` and River's text learners read
      tokens; the MLP, the logistic model and River's numeric learners read features.
    - ``post_drift``: the class implements ``post_drift() -> OfflineData``, offline-size data of the
      concept after the drift, which the oracle bounds train on.
    - ``token_table``: the class implements ``tokens`` (the token table: id -> word), ``words(X)``
      (the rows back as text, written with ``save_stream=true``) and ``oov_share(X)`` (each row's
      share of tokens never seen offline, drawn in the stream view).
    """

    inputs: str = "features"
    post_drift: bool = False
    token_table: bool = False

    def __post_init__(self):
        check_choice("inputs", self.inputs, INPUTS)
        check_choice("post_drift", self.post_drift, (False, True))
        check_choice("token_table", self.token_table, (False, True))


@cache
def _class_tags(cls: type) -> StreamTags:
    declared = collect(cls, StreamTags, what="stream", legacy=("inputs",))
    for tag, members in (("post_drift", ("post_drift",)), ("token_table", TABLE)):
        has = [hasattr(cls, member) for member in members]
        if getattr(declared, tag) and not all(has):
            missing = [m for m, present in zip(members, has) if not present]
            raise ConfigError(f"stream {cls.__qualname__} declares the tag {tag} but lacks {missing}")
        if not getattr(declared, tag) and any(has):
            raise ConfigError(f"stream {cls.__qualname__} implements {[m for m, p in zip(members, has) if p]} "
                              f"without declaring it: add _more_tags = {{{tag!r}: True}} to the class")
    return declared


def stream_tags(stream) -> StreamTags:
    """The tags of a stream (an instance or its class): the one place a capability is read.

    Parameters
    ----------
    stream
        A :class:`Stream` or a subclass of it.

    Returns
    -------
    StreamTags
        Every tag, the class's declarations over the defaults; a tag declared without the members
        it promises, or members written without the tag, are refused (:class:`ConfigError`).

    Examples
    --------
    >>> from harness.streams.prompts import PromptsStream
    >>> stream_tags(PromptsStream)
    StreamTags(inputs='tokens', post_drift=True, token_table=True)
    >>> stream_tags(Stream).post_drift
    False
    """
    return _class_tags(stream if isinstance(stream, type) else type(stream))


class Stream:
    """A seeded, replayable stream whose drift is known exactly.

    Shared parameters: ``seed`` (the run's), ``n_offline`` pre-deployment samples of which the last
    ``val_fraction`` is validation, ``n_deploy`` deployment samples. The constructor checks them and
    the schedule: a kind or pattern outside ``kinds``/``patterns`` and an onset, width or period that
    does not fit ``n_deploy`` are refused naming the key, the value and what is allowed.

    A subclass sets ``n_features`` and ``n_classes`` (as parameters, attributes, or in ``fixed``),
    stores each of its parameters under its own name (``self.gain = gain``: :meth:`describe` reads
    them back) and implements ``offline() -> OfflineData`` and ``deploy() -> DeployData``. Severity 0
    must give a deployment distribution equal to the offline one (:attr:`drifts` is false then).
    What else it can do (``post_drift()``, token ids as inputs) it declares in ``_more_tags``
    (:class:`StreamTags`, read through :func:`stream_tags`).

    Parameters
    ----------
    schedule : DriftSchedule
        When and how strongly the deployment stream drifts (the run builds it from ``drift.*``).
    seed : int, default 0
        The run's seed; :meth:`rng` derives one generator per purpose from it.
    n_offline : int, default 4000
        Pre-deployment samples, of which the last ``val_fraction`` are validation.
    val_fraction : float, default 0.25
    n_deploy : int, default 8000
        Deployment samples.

    Examples
    --------
    >>> import numpy as np
    >>> from harness.streams import DriftSchedule, deploy_data, split_offline
    >>> class Coin(Stream):
    ...     kinds = ("none", "concept")
    ...     fixed = {"n_classes": 2}
    ...     def __init__(self, schedule, *, n_features: int = 2, **common):
    ...         super().__init__(schedule, **common)
    ...         self.n_features = n_features
    ...     def draw(self, n, rng):
    ...         X = rng.normal(size=(n, self.n_features))
    ...         return X, (X[:, 0] > 0).astype(int)
    ...     def offline(self):
    ...         return split_offline(*self.draw(self.n_offline, self.rng(0)), self.val_fraction)
    ...     def deploy(self):
    ...         X, y = self.draw(self.n_deploy, self.rng(1))
    ...         flip = self.schedule.progress(np.arange(self.n_deploy)) * self.schedule.severity > 0.5
    ...         return deploy_data(self.schedule, X, np.where(flip, 1 - y, y))
    >>> stream = Coin(DriftSchedule("concept", "sudden", 1.0, 50, 0), n_offline=40, n_deploy=100)
    >>> deploy = stream.deploy()
    >>> deploy.X.shape, deploy.phase[[0, 99]].tolist(), stream.describe()["n_classes"]
    ((100, 2), ['pre', 'post'], 2)
    >>> Coin(DriftSchedule("label", "sudden", 1.0, 50, 0))
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: drift.kind='label' is not supported by stream=harness.streams.stream.Coin (it supports ['none', 'concept'])
    """

    family: ClassVar[str] = ""  # the name after ``stream=``; a user's stream is named by its class path
    # drift kinds the stream can express itself; kind=pipeline is applied to any numeric stream from
    # outside (harness.streams.faulty), never by the stream
    kinds: ClassVar[tuple[str, ...]] = tuple(kind for kind in KINDS if kind != "pipeline")
    patterns: ClassVar[tuple[str, ...]] = PATTERNS  # drift patterns it can express
    _more_tags: ClassVar[dict[str, Any]] = {}  # the capabilities this class declares (see StreamTags)
    # Keys of the config fixed by the data (``{"n_classes": 2}``): set as attributes, listed in the
    # schema and in describe(), and refused when the config asks for another value.
    fixed: ClassVar[dict[str, Any]] = {}
    # Parameters whose ``None`` means "read it from the data" (a table's number of rows or classes):
    # describe() gives the value read. A string is the config's default for the key, an interpolation
    # whose resolver reads the data (``{"n_classes": "${table_classes:}"}``), so that the composed
    # config holds the value (strategies read ``${stream.n_classes}``); ``None`` leaves it null.
    from_data: ClassVar[dict[str, Optional[str]]] = {}

    n_features: int
    n_classes: int

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        seed: int = 0,
        n_offline: int = 4000,
        val_fraction: float = 0.25,
        n_deploy: int = 8000,
    ):
        validate.seed("seed", seed)
        check_sizes(n_offline, val_fraction, n_deploy)
        self.check_support(schedule)
        schedule.check(n_deploy)
        self.schedule, self.seed = schedule, seed
        self.n_offline, self.val_fraction, self.n_deploy = n_offline, val_fraction, n_deploy
        for name, value in self.fixed.items():
            setattr(self, name, value)

    @classmethod
    def name(cls) -> str:
        """``family``, or ``module.Class`` for a stream that has none."""
        return cls.family or f"{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def unsupported(cls, schedule: DriftSchedule) -> tuple[str, str, tuple[str, ...]] | None:
        """``(key, value, supported)`` of the first of the schedule's kind and pattern this stream
        cannot express, else ``None``."""
        for key, value, supported in (("kind", schedule.kind, cls.kinds), ("pattern", schedule.pattern, cls.patterns)):
            if value not in supported:
                return key, value, supported
        return None

    @classmethod
    def check_support(cls, schedule: DriftSchedule) -> None:
        problem = cls.unsupported(schedule)
        if problem:
            key, value, supported = problem
            raise ConfigError(f"drift.{key}={value!r} is not supported by stream={cls.name()} "
                              f"(it supports {list(supported)})")

    @classmethod
    def from_config(cls, schedule: DriftSchedule, *, seed: int, **params) -> "Stream":
        """The stream of a config node's values: the ``fixed`` keys are checked and dropped, the rest
        go to the constructor, which must set ``n_features`` and ``n_classes``."""
        for name, value in cls.fixed.items():
            given = params.pop(name, value)
            if given != value:
                raise ConfigError(f"stream.{name}={given} is fixed at {value} for stream={cls.name()}")
        stream = cls(schedule, seed=seed, **params)
        for name in ("n_features", "n_classes"):
            if not hasattr(stream, name):
                raise ConfigError(f"stream={cls.name()} sets no {name}: its constructor must set self.{name}")
        return stream

    @property
    def drifts(self) -> bool:
        """Whether the deployment stream moves at all: not with kind or pattern ``none``, nor at
        severity 0 (the deployment distribution is then the offline one)."""
        s = self.schedule
        return s.kind != "none" and s.pattern != "none" and s.severity > 0

    def post_drift_schedule(self) -> DriftSchedule:
        """The concept after the drift as a schedule that is on it from sample 0, at the run's
        severity (0 when the pattern is ``none``): what ``post_drift()`` draws."""
        s = self.schedule
        return DriftSchedule(s.kind, "sudden", s.severity if s.pattern != "none" else 0.0, 0, 0)

    def rng(self, *purpose: int) -> np.random.Generator:
        """A generator of its own for each purpose, made from the seed where it is used, so that
        drawing twice gives the same data."""
        return np.random.default_rng([self.seed, *purpose])

    def describe(self) -> dict:
        """Every parameter, ``n_features``, ``n_classes``, the schedule with its change points, and
        the stream's own :meth:`details`, for ``stream.json``."""
        names = [*parameters(type(self)), *self.fixed, "n_features", "n_classes"]
        values = {name: getattr(self, name) for name in dict.fromkeys(names) if name != "schedule"}
        return {"family": self.name(), **values, "schedule": self.schedule.as_dict(self.n_deploy), **self.details()}

    def details(self) -> dict:
        """What :meth:`describe` adds beyond the parameters: the drift in concrete units and the like."""
        return {}


def parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword parameters of ``cls``'s constructor, ``name -> Parameter`` with its annotation
    resolved, including those its ``**common`` hands on to the base classes, up to :class:`Stream`.
    Ordered base class first; a subclass that names a parameter again sets its default.

    >>> list(parameters(Stream))
    ['schedule', 'seed', 'n_offline', 'val_fraction', 'n_deploy']
    """
    chain = []
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        signature = inspect.signature(init)
        hints = typing.get_type_hints(init)
        named = [p for p in list(signature.parameters.values())[1:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        chain.append({p.name: p.replace(annotation=_plain(hints.get(p.name, Any))) for p in named})
        if klass is Stream or not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    order = dict.fromkeys(name for own in reversed(chain) for name in own)
    return {name: next(own[name] for own in chain if name in own) for name in order}


def config_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """:func:`parameters` less those the run passes itself (the schedule and the seed)."""
    return {name: p for name, p in parameters(cls).items() if name not in NOT_CONFIG}


def config_keys(cls: type) -> list[str]:
    """The keys a ``stream.*`` node of ``cls`` may hold (``family`` and ``_target_`` aside), in the
    order of its schema: the shared sizes, the ``fixed`` keys, the stream's own arguments."""
    params = list(config_parameters(cls))
    shared = [name for name in config_parameters(Stream) if name in params]
    fixed = [name for name in cls.fixed if name not in params]
    return [*shared, *fixed, *(name for name in params if name not in shared)]


def check_types(cls: type, params: dict) -> None:
    """Each value has the type its constructor argument is annotated with (``int``, ``float``,
    ``bool``, ``str``, or one of them or ``None``; other annotations are left to the constructor).
    Hydra's schemas do this for the families at composition; this does it for a user's stream.

    >>> check_types(Stream, {"n_deploy": "many"})
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: stream.n_deploy='many' is not an integer
    """
    annotated = config_parameters(cls)
    for name, value in params.items():
        kind = annotated[name].annotation if name in annotated else Any
        if typing.get_origin(kind) is typing.Union and type(None) in typing.get_args(kind):
            if value is None:
                continue
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        if kind is int:
            validate.integer(f"stream.{name}", value)
        elif kind is float:
            validate.number(f"stream.{name}", value)
        elif kind is bool:
            validate.boolean(f"stream.{name}", value)
        elif kind is str and not isinstance(value, str):
            raise ConfigError(f"stream.{name}={value!r} is not a string")


def _plain(annotation):
    """``X | None`` as ``Optional[X]``, which OmegaConf's typed nodes understand."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return Optional[args[0]]
    return annotation
