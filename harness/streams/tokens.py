"""What the input-space detectors read on a token stream (the stream's tag ``inputs == "tokens"``).

A token id is a name, not a number (its order in the stream's table means nothing), so a KS test or
an MMD on raw ids would measure an accident of numbering. On a token stream the detectors read each
query as a bag of words instead: its count of every token id of the offline data (training and
validation rows, no label needed) and, last, its count of tokens outside that vocabulary. Renaming
the ids permutes the columns, which neither the per-column KS tests (their largest statistic and
smallest p-value) nor the MMD's Euclidean kernel sees.
"""

from __future__ import annotations

import numpy as np


def offline_vocabulary(*arrays: np.ndarray) -> np.ndarray:
    """The sorted distinct token ids (padding 0 excluded) of the rows of ``arrays`` (each ``(n, L)``).

    >>> offline_vocabulary(np.array([[5.0, 2.0, 0.0]]), np.array([[2.0, 9.0, 0.0]]))
    array([2, 5, 9])
    """
    ids = np.unique(np.concatenate([np.asarray(a, dtype=np.int64).ravel() for a in arrays]))
    return ids[ids > 0]


def bag_of_words(X: np.ndarray, vocabulary: np.ndarray) -> np.ndarray:
    """Float64 counts ``(n, V + 1)``: column ``j < V`` counts ``vocabulary[j]`` in each row of the token
    ids ``X`` ``(n, L)`` (0 = padding, not counted), the last column the row's tokens outside
    ``vocabulary`` (sorted, as :func:`offline_vocabulary` gives it).

    >>> bag_of_words(np.array([[5.0, 2.0, 5.0, 7.0, 0.0]]), np.array([2, 5, 9]))
    array([[1., 2., 0., 1.]])
    """
    ids = np.asarray(X, dtype=np.int64)
    vocabulary = np.asarray(vocabulary, dtype=np.int64)
    position = np.searchsorted(vocabulary, ids).clip(max=max(len(vocabulary) - 1, 0))
    known = (vocabulary[position] == ids) if len(vocabulary) else np.zeros(ids.shape, dtype=bool)
    column = np.where(known, position, len(vocabulary))
    rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
    counts = np.zeros((len(ids), len(vocabulary) + 1))
    real = ids > 0
    np.add.at(counts, (rows[real], column[real]), 1.0)
    return counts
