"""The protocol every strategy follows, static or continuous, and a base class that gives a user's
strategy every member but ``predict_proba`` and ``learn``."""

from __future__ import annotations

import abc
import functools
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from harness.offline.freeze import Pretrained
from harness.streams.base import INPUTS, OfflineData
from harness.validation.tags import check_choice, collect


@runtime_checkable
class Strategy(Protocol):
    """A deployed model as the replay loop sees it.

    ``step`` is how many samples the strategy predicts in one call before the loop may hand it the
    labels that have arrived (1 = strictly per sample, as River learners are evaluated).
    ``fit_offline`` sees the same pre-deployment evidence as every other strategy: the offline data
    and the outcome of the pre-deployment optimisation (use either or both).

    ``n_updates`` counts learning steps (a River ``learn_one``, a gradient step), ``n_retrains``
    trainings from scratch. ``detections`` is ``None`` for a strategy without a drift detector;
    otherwise the positions, in the sequence of labels it has learned from (0-based), of the labels
    whose error made its detector fire. The replay loop maps them to stream time ``t``.

    Every built-in strategy implements it through :class:`BaseStrategy`, and so can a user's.
    """

    step: int
    n_updates: int
    n_retrains: int
    detections: list[int] | None

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None: ...

    def prepare(self, X: np.ndarray) -> Sequence:
        """The deployment inputs (``(n, d)``, float32 or float64 as the source holds them) in the form
        ``predict_proba`` and ``learn`` take, made once before the loop, which hands them slices of it
        (torch: ``X`` itself; River: one feature dict per row, so that no row is converted inside the
        timed calls)."""

    def predict_proba(self, X: Sequence) -> np.ndarray:
        """``n`` inputs (a float ``(n, d)`` array or ``n`` prepared rows) in, ``(n, n_classes)``
        probabilities out (rows sum to 1)."""

    def learn(self, X: Sequence, y: np.ndarray) -> None:
        """Labelled samples whose predictions are already recorded, in time order."""

    def model_bytes(self) -> int:
        """Memory the strategy holds to predict and learn (torch: parameters, buffers, optimiser
        state and sample buffers; River: its own ``_raw_memory_usage``)."""

    def fingerprint(self) -> str | None:
        """SHA-256 of the weights a static strategy promises never to change; ``None`` if it learns."""


# The protocol's members, read off the class above so that it is written once: the annotated
# attributes (which the constructor may set) and the methods (which the class must have).
ATTRIBUTES = tuple(Strategy.__annotations__)
METHODS = tuple(name for name, value in vars(Strategy).items() if callable(value) and not name.startswith("_"))
FAMILIES = ("static", "river", "continuous", "other")
FROM_MODEL = ("weights", "factory")


@dataclass(frozen=True)
class Tags:
    """What a strategy declares about itself, each with its default (River's ``_tags``): a class
    declares the ones it changes in ``_more_tags`` (``_more_tags = {"family": "static"}``), and
    :func:`tags` reads them. Unknown names and values are refused.

    - ``family``: ``static`` (weights never change: the frozen model and its variants), ``river``
      (River online learners and the trivial baselines), ``continuous`` (torch models refined on the
      stream) or ``other``; recorded per strategy in ``result.json`` and drawn as the line style.
    - ``reads``: the stream inputs it can learn from (``features`` or ``tokens``, the stream's
      ``inputs`` tag); ``None`` for a strategy that reads the pre-deployment model's inputs.
    - ``needs_known_drift``: it is handed ``OfflineData.known_drift`` (the post-drift concept) in
      ``fit_offline``: only the oracle bounds.
    - ``needs_from_model``: what it needs of a user's ``model=pretrained``: trainable ``weights``
      or a ``factory`` of fresh networks; ``None``: nothing.
    - ``selects_labels``: it takes only some of the labels that arrive and lists the positions of
      those it took in ``labels_used`` (the run records them as ``label_used``).
    """

    family: str = "other"
    reads: str | None = None
    needs_known_drift: bool = False
    needs_from_model: str | None = None
    selects_labels: bool = False

    def __post_init__(self):
        check_choice("family", self.family, FAMILIES)
        check_choice("reads", self.reads, (*INPUTS, None))
        check_choice("needs_known_drift", self.needs_known_drift, (False, True))
        check_choice("needs_from_model", self.needs_from_model, (*FROM_MODEL, None))
        check_choice("selects_labels", self.selects_labels, (False, True))


@functools.cache
def _class_tags(cls: type) -> Tags:
    return collect(cls, Tags, what="strategy", legacy=("reads", "needs_known_drift", "needs_from_model"))


def tags(strategy) -> Tags:
    """The tags of a strategy (an instance or its class): the one place a capability is read.

    Parameters
    ----------
    strategy
        A strategy or a strategy class (a :class:`BaseStrategy` subclass or any class with the
        protocol's members; such a class may declare ``_more_tags`` too).

    Returns
    -------
    Tags
        Every tag, the class's declarations over the defaults.

    Examples
    --------
    >>> from harness.strategies.oracle import Oracle
    >>> tags(Oracle).family, tags(Oracle).needs_known_drift
    ('static', True)
    >>> tags(object())
    Tags(family='other', reads=None, needs_known_drift=False, needs_from_model=None, selects_labels=False)
    """
    return _class_tags(strategy if isinstance(strategy, type) else type(strategy))


def missing_members(obj) -> list[str]:
    """Protocol members ``obj`` lacks (empty when it can be replayed).

    >>> missing_members(object())[:3]
    ['step', 'n_updates', 'n_retrains']
    """
    return [name for name in (*ATTRIBUTES, *METHODS) if not hasattr(obj, name)]


def missing_methods(cls: type) -> list[str]:
    """Protocol methods the class ``cls`` lacks: what can be checked before building one. A method
    left abstract (a :class:`BaseStrategy` subclass without ``learn``) is missing.

    >>> missing_methods(dict)
    ['fit_offline', 'prepare', 'predict_proba', 'learn', 'model_bytes', 'fingerprint']
    """
    abstract = getattr(cls, "__abstractmethods__", frozenset())
    return [name for name in METHODS if not callable(getattr(cls, name, None)) or name in abstract]


def _counting(learn):
    """``learn`` that adds the number of labels it was handed to ``n_updates`` once it returns; a
    ``learn`` that calls its parent's (also counting) counts once, a class with ``count_updates = False``
    not at all."""

    @functools.wraps(learn)
    def counted(self, X, y):
        if self._learning or not self.count_updates:
            return learn(self, X, y)
        self._learning = True
        try:
            learn(self, X, y)
        finally:
            self._learning = False
        self.n_updates += len(y)

    return counted


class BaseStrategy(abc.ABC):
    """A strategy in two methods, as River's ``base.Classifier`` is a learner in two: subclass it and
    write ``predict_proba(X) -> (n, n_classes)`` and ``learn(X, y)``; the rest has defaults.

    - ``step = 1``: predict one sample at a time, then learn the labels that have arrived (set a larger
      ``step`` for mini-batches).
    - ``n_updates``: counted here, one per label handed to ``learn`` (as River counts ``learn_one``).
      A class that counts its own steps (gradient steps) or learns nothing sets ``count_updates = False``.
    - ``n_retrains = 0``; ``detections = None`` (no drift detector).
    - ``fit_offline``: the warm start River learners get here too: ``learn`` on the offline train split,
      then the validation split, in stream order (the counter is then reset to 0, so that ``n_updates``
      counts deployment updates). Override it to use the pre-deployment network (``pretrained.module``)
      or to start cold (``pass``).
    - ``prepare``: the inputs as they are (``(n, d)``, in the source's precision).
    - ``model_bytes``: the size of the pickled strategy. Pickling reaches everything the instance holds
      (arrays, tensors, nested River models, plain Python state) without knowing their types, and is
      close to the in-memory size of array data; override it for an exact count.
    - ``fingerprint``: ``None``, as for any strategy that learns. A static strategy returns a hash of
      the weights it promises never to change (the run records it before and after the replay).
    - ``_more_tags``: the capabilities the class declares, each with a default in :class:`Tags`
      (``{"family": "river"}``, ``{"needs_known_drift": True}``); read through :func:`tags`.

    ``harness.pipeline.testing.check_strategy(MyStrategy)`` runs the project's contract on a subclass.

    Parameters
    ----------
    None here: a subclass takes its own (keyword arguments with defaults, which
    ``strategy.<name>.*`` in the config sets).

    Attributes
    ----------
    step, n_updates, n_retrains, detections
        The protocol's attributes, with the defaults above.

    Examples
    --------
    >>> import numpy as np
    >>> class Frequencies(BaseStrategy):
    ...     _more_tags = {"family": "river"}
    ...     def __init__(self, n_classes: int = 2):
    ...         self.counts = np.zeros(n_classes)
    ...     def predict_proba(self, X):
    ...         return np.tile((self.counts + 1) / (self.counts.sum() + len(self.counts)), (len(X), 1))
    ...     def learn(self, X, y):
    ...         self.counts += np.bincount(y, minlength=len(self.counts))
    >>> s = Frequencies()
    >>> s.learn(s.prepare(np.zeros((3, 4))), np.array([1, 1, 0]))
    >>> s.predict_proba(np.zeros((1, 4))).round(2).tolist(), s.n_updates, tags(s).family
    ([[0.4, 0.6]], 3, 'river')
    """

    step: int = 1
    n_updates: int = 0
    n_retrains: int = 0
    detections: list[int] | None = None
    count_updates: bool = True
    _more_tags: ClassVar[dict] = {}  # the tags this class changes (see Tags), read through tags()
    _learning: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        learn = cls.__dict__.get("learn")
        if cls.count_updates and callable(learn) and not getattr(learn, "__isabstractmethod__", False):
            cls.learn = _counting(learn)

    @abc.abstractmethod
    def predict_proba(self, X: Sequence) -> np.ndarray:
        """``n`` inputs in, ``(n, n_classes)`` probabilities out (rows sum to 1); changes nothing."""

    @abc.abstractmethod
    def learn(self, X: Sequence, y: np.ndarray) -> None:
        """Labelled samples whose predictions are already recorded, in time order (any number, after
        a delay, some labels never)."""

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val)):
            if len(y):
                self.learn(self.prepare(X), y)
        self.n_updates = 0

    def prepare(self, X: np.ndarray) -> Sequence:
        return X

    def model_bytes(self) -> int:
        try:
            return len(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception as error:
            raise TypeError(f"{type(self).__name__} cannot be pickled ({error}): override model_bytes() to say how "
                            "much memory it holds") from error

    def fingerprint(self) -> str | None:
        return None
