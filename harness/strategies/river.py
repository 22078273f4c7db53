"""Any River classifier as a strategy, evaluated strictly test-then-train per sample."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from river import base, compose, multiclass

from harness.offline.freeze import Pretrained
from harness.strategies.base import BaseStrategy
from harness.streams.base import OfflineData
from harness.validation import validate


def feature_names(n_features: int) -> list[str]:
    return [f"x_{i}" for i in range(n_features)]


def to_dicts(X: np.ndarray) -> list[dict]:
    """Rows as River's feature dicts ``{"x_0": ..., "x_{d-1}": ...}`` (Python floats); a missing value
    (NaN) is left out of its row's dict, River's convention for a feature that did not arrive.

    >>> to_dicts(np.array([[1.0, np.nan]]))
    [{'x_0': 1.0}]
    """
    keys = feature_names(X.shape[1])
    if X.dtype.kind == "f" and np.isnan(X).any():
        return [{key: value for key, value in zip(keys, row) if value == value} for row in X.tolist()]
    return [dict(zip(keys, row)) for row in X.tolist()]


class Rows(Sequence):
    """The rows of ``X`` as River's feature dicts, converted when they are read (a slice, an index):
    a stream of any length costs no more memory than its array, and each learner reads its own
    blocks. River only reads its inputs, so the dicts are not copied again."""

    def __init__(self, X: np.ndarray):
        self.X = X

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return to_dicts(self.X[index])
        return to_dicts(self.X[[index]])[0]


class RiverClassifier(BaseStrategy):
    """Adapts a River classifier (``predict_proba_one`` / ``learn_one``) to the strategy protocol.

    The warm start (``warm_start=True``) replays every offline sample through ``learn_one`` (train,
    then validation, in stream order), so it starts from the same evidence as the frozen model. Every run warms its own learner:
    a copy of a learner warmed earlier in the process measures a different ``model_bytes``.
    Probabilities are mapped by class index; a class River has not seen gets 0, an empty answer
    (before any label) becomes uniform. Any River classifier fits: name it by its ``_target_`` path.
    ``n_updates`` counts ``learn_one`` calls after the warm start (the base class counts them).

    ``one_vs_rest=True`` is for a binary learner (``LogisticRegression``): on two classes the model
    is used as given (River's own binary model), on three or more its last step is wrapped in
    ``river.multiclass.OneVsRestClassifier`` (see :func:`one_vs_rest`).
    """

    _more_tags = {"family": "river", "reads": "features"}  # the stream inputs it can learn from

    def __init__(self, *, model, n_classes: int, warm_start: bool = True, one_vs_rest: bool = False):
        if not isinstance(model, base.Classifier):
            raise ValueError(f"model={type(model).__name__} is not a River classifier (river.base.Classifier)")
        self.n_classes = validate.integer("n_classes", n_classes, 2)
        self.warm_start = validate.boolean("warm_start", warm_start)
        self.one_vs_rest = validate.boolean("one_vs_rest", one_vs_rest)
        self.model = one_vs_rest_model(model) if self.one_vs_rest and self.n_classes > 2 else model

    def rows(self, X: np.ndarray) -> list:
        """The inputs River learns from, one per row of ``X``: feature dicts."""
        return to_dicts(X)

    def fit_offline(self, data: OfflineData, pretrained: Pretrained) -> None:
        if not self.warm_start:
            return
        for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val)):
            for row, label in zip(self.rows(X), y.tolist()):
                self.model.learn_one(row, label)

    def prepare(self, X: np.ndarray) -> Rows:
        return Rows(X)

    def predict_proba(self, X) -> np.ndarray:
        rows = X if isinstance(X, list) else self.rows(X)
        k = self.n_classes
        out = np.empty((len(rows), k))
        for i, row in enumerate(rows):
            p = [0.0] * k
            for label, value in self.model.predict_proba_one(row).items():
                p[label] = value  # int or bool labels index the list directly
            total = sum(p)
            if not 0.999999999 < total < 1.000000001:  # renormalise only when River's answer needs it
                p = [v / total for v in p] if total > 0 else [1.0 / k] * k
            out[i] = p
        return out

    def learn(self, X, y: np.ndarray) -> None:
        rows = X if isinstance(X, list) else self.rows(X)
        for row, label in zip(rows, y.tolist()):
            self.model.learn_one(row, label)

    def model_bytes(self) -> int:
        return int(self.model._raw_memory_usage)


def one_vs_rest_model(model: base.Classifier) -> base.Classifier:
    """``model`` with its classifier wrapped in ``OneVsRestClassifier``: a pipeline's last step (the
    steps before it kept as they are), or the model itself."""
    if isinstance(model, compose.Pipeline):
        *steps, last = model.steps.values()
        return compose.Pipeline(*steps, multiclass.OneVsRestClassifier(last))
    return multiclass.OneVsRestClassifier(model)


def to_text(X: np.ndarray) -> list[str]:
    """Rows of token ids ``(n, L)`` (0 = padding) as strings ``"t12 t5 t12"``, one word per token:
    what River's ``feature_extraction.BagOfWords`` reads (it needs no word table, only distinct words).

    >>> to_text(np.array([[12.0, 5.0, 12.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    ['t12 t5 t12', '']
    """
    ids = np.asarray(X, dtype=np.int64)
    return [" ".join(f"t{i}" for i in row[row > 0].tolist()) for row in ids]


class RiverTextClassifier(RiverClassifier):
    """A River text pipeline (``BagOfWords() | MultinomialNB()`` and the like) on token-id rows
    (``stream=prompts``): each row becomes a string of its tokens (:func:`to_text`), so the
    pipeline's vocabulary grows online with every new word, unlike the frozen model's."""

    _more_tags = {"reads": "tokens"}

    def rows(self, X: np.ndarray) -> list[str]:
        return to_text(X)

    def prepare(self, X: np.ndarray) -> list[str]:
        return to_text(X)
