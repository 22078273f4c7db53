"""Tables that show what a stream changes, before any model is looked at (drawn by
:func:`harness.figures.stream_view.plot_stream`).

- ``stream_points.csv``: offline and deployment samples projected on the first two principal
  components of the offline inputs (at most ``max_points`` per part): ``part``, ``pc_0``, ``pc_1``,
  ``y``, ``novel``; deployment points are those at or after the drift onset.
- ``stream_timeline.csv``: per tumbling window of the deployment stream, ``t_end``, ``class``,
  ``prior`` (share of that class in the window), ``drift_progress`` (its mean in the window) and
  ``nn_agreement`` (share of the window's labels equal to the label of the nearest offline sample:
  the offline labelling rule still holding, which concept drift breaks even when P(x) stays put);
  for a token stream (``stream=prompts``) also ``oov_share``, the window's mean share of tokens
  outside the offline vocabulary. On a stream longer than ``NN_ROWS`` samples the nearest-neighbour
  search runs on ``NN_ROWS`` rows drawn without replacement by a seeded generator, and
  ``nn_agreement`` is the share among the drawn rows of the window (NaN for a window without any).
- ``stream_progress.csv``: ``t``, ``drift_progress`` at every sample where the progress changes
  (and the last one), so that a sudden drift is drawn as a step rather than a window-mean ramp.

On a token stream the projection and the nearest-neighbour search read each query as a bag of words
over the offline vocabulary (harness/streams/tokens.py), not its token ids, whose values are names.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from harness.results.store import write_table
from harness.streams.tokens import bag_of_words, offline_vocabulary

NN_ROWS = 200_000  # the most deployment rows searched for their nearest offline sample
from harness.streams.base import DeployData, OfflineData


def principal_axes(x: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and the first ``k`` principal directions ``(d, k)`` of ``x`` (``(n, d)``); when
    ``d < k`` the missing directions are zero.

    >>> mean, axes = principal_axes(np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.1]]))
    >>> np.abs(axes[:, 0]).round(2).tolist()
    [1.0, 0.02]
    """
    x = np.asarray(x, dtype=float)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = np.zeros((x.shape[1], k))
    axes[:, : min(k, len(vt))] = vt[:k].T
    return mean, axes


def token_features(offline: OfflineData) -> Callable[[np.ndarray], np.ndarray]:
    """Rows of token ids ``(n, L)`` -> bags of words ``(n, V + 1)`` over the offline vocabulary."""
    return partial(bag_of_words, vocabulary=offline_vocabulary(offline.X_train, offline.X_val))


def identity(x: np.ndarray) -> np.ndarray:
    return x


def mean_imputed(offline: OfflineData) -> Callable[[np.ndarray], np.ndarray]:
    """Rows ``(n, d)`` with each missing value (NaN: a pipeline fault) replaced by its feature's offline
    training mean, as the torch models read them; rows without one are returned as they are."""
    mean = np.asarray(offline.X_train, dtype=np.float64).mean(axis=0)

    def features(x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x) if x.dtype.kind == "f" else None
        return x if missing is None or not missing.any() else np.where(missing, mean, x)

    return features


def stream_points(
    offline: OfflineData, deploy: DeployData, onset: int | None, *, max_points: int = 1500,
    features: Callable[[np.ndarray], np.ndarray] = identity,
) -> pd.DataFrame:
    """Offline and deployment samples (those at or after ``onset``; all of them when it is None, an
    unknown drift) projected on the offline data's first two principal components of ``features``."""
    x_off = np.vstack([offline.X_train, offline.X_val])
    y_off = np.concatenate([offline.y_train, offline.y_val])
    mean, axes = principal_axes(features(x_off))
    rng = np.random.default_rng(0)
    frames = []
    after = np.flatnonzero(deploy.t >= (0 if onset is None else onset))  # positions, not a copy of the rows
    for part, x, y, novel, rows in (
        ("offline", x_off, y_off, np.zeros(len(y_off), bool), np.arange(len(y_off))),
        ("deployment", deploy.X, deploy.y, deploy.novel, after),
    ):
        keep = rows[np.sort(rng.permutation(len(rows))[:max_points])]
        z = (features(x[keep]) - mean) @ axes
        columns = {"part": part, "pc_0": z[:, 0], "pc_1": z[:, 1], "y": y[keep], "novel": novel[keep]}
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)


def nearest_offline_label(offline: OfflineData, x: np.ndarray,
                          features: Callable[[np.ndarray], np.ndarray] = identity) -> np.ndarray:
    """Label ``(n,)`` of the nearest offline sample (train and validation) to each row of ``x``, in
    the space of ``features``."""
    x_off = np.vstack([offline.X_train, offline.X_val])
    y_off = np.concatenate([offline.y_train, offline.y_val])
    _, index = cKDTree(features(x_off)).query(features(x), k=1)
    return y_off[index]


def stream_timeline(
    deploy: DeployData, n_classes: int, *, window: int, offline: OfflineData | None = None,
    oov: np.ndarray | None = None, nn_rows: int = NN_ROWS, features: Callable[[np.ndarray], np.ndarray] = identity,
) -> pd.DataFrame:
    """Per window (see the module's docstring): class priors, mean drift progress, with ``offline``
    the nearest-neighbour agreement, searched on at most ``nn_rows`` rows, and with ``oov`` ``(n,)``
    (each sample's share of out-of-vocabulary tokens) its window mean."""
    n = len(deploy)
    searched = np.arange(n) if n <= nn_rows else np.sort(np.random.default_rng(0).choice(n, nn_rows, replace=False))
    agrees = None
    if offline is not None:
        agrees = np.full(n, np.nan)
        agrees[searched] = nearest_offline_label(offline, deploy.X[searched], features) == deploy.y[searched]
    rows = []
    for start in range(0, len(deploy), window):
        end = min(start + window, len(deploy))
        counts = np.bincount(deploy.y[start:end], minlength=n_classes) / (end - start)
        common = {"t_end": end, "drift_progress": float(deploy.drift_progress[start:end].mean())}
        if agrees is not None:
            drawn = agrees[start:end][~np.isnan(agrees[start:end])]
            common["nn_agreement"] = float(drawn.mean()) if drawn.size else float("nan")
        if oov is not None:
            common["oov_share"] = float(np.mean(oov[start:end]))
        rows += [{**common, "class": k, "prior": counts[k]} for k in range(n_classes)]
    return pd.DataFrame(rows)


def stream_progress(deploy: DeployData) -> pd.DataFrame:
    """The drift progress at its first sample, at every sample where it changes, and at the last.

    >>> from types import SimpleNamespace
    >>> stream_progress(SimpleNamespace(t=np.arange(6), drift_progress=np.array([0, 0, 0, 1, 1, 1.0]))).values.tolist()
    [[0.0, 0.0], [3.0, 1.0], [5.0, 1.0]]
    """
    progress = np.asarray(deploy.drift_progress, dtype=float)
    same = (progress[1:] == progress[:-1]) | (np.isnan(progress[1:]) & np.isnan(progress[:-1]))  # NaN: unknown
    keep = np.flatnonzero(np.r_[True, ~same])
    keep = np.union1d(keep, [len(progress) - 1])
    return pd.DataFrame({"t": np.asarray(deploy.t)[keep], "drift_progress": progress[keep]})


def write_stream_view(
    output_dir: Path,
    offline: OfflineData,
    deploy: DeployData,
    *,
    onset: int | None,
    n_classes: int,
    window: int,
    oov: np.ndarray | None = None,
    tokens: bool = False,
) -> None:
    """Write ``stream_points.csv``, ``stream_timeline.csv`` and ``stream_progress.csv`` into ``output_dir``;
    ``oov`` (a token stream's per-sample out-of-vocabulary share) adds ``oov_share`` to the timeline;
    ``tokens``: the inputs are token ids, read as bags of words."""
    features = token_features(offline) if tokens else mean_imputed(offline)
    write_table(Path(output_dir) / "stream_points.csv", stream_points(offline, deploy, onset, features=features))
    timeline = stream_timeline(deploy, n_classes, window=window, offline=offline, oov=oov, features=features)
    write_table(Path(output_dir) / "stream_timeline.csv", timeline)
    write_table(Path(output_dir) / "stream_progress.csv", stream_progress(deploy))
