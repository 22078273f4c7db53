"""Building blocks shared by the families to induce a drift of one kind only.

- label shift: :func:`target_prior` and :func:`draw_classes` choose which class each shifted sample
  must have; :func:`take_by_class` fills those samples from a pool drawn from the unshifted
  distribution, so ``P(x | y)`` is untouched;
- novel inputs: :func:`novel_cluster` places a compact cluster at a given distance from the data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.streams.base import check_fraction, check_positive
from harness.validation import validate


def check_shift(
    *,
    rotation_deg: float,
    shift_sd: float,
    scale: float,
    novel_distance: float,
    novel_spread: float,
    novel_share: float,
) -> None:
    """The drift sizes the Gaussian families share: a finite rotation, a shift and a novel cluster's
    distance and spread of at least 0, a scale factor above 0, a novel share in (0, 1]."""
    validate.number("stream.rotation_deg", rotation_deg)
    check_positive("stream.shift_sd", shift_sd, 0)
    validate.number("stream.scale", scale, 0, low_open=True)
    check_positive("stream.novel_distance", novel_distance, 0)
    check_positive("stream.novel_spread", novel_spread, 0)
    check_fraction("stream.novel_share", novel_share, open_high=False)


def check_minority_prior(value: float, n_classes: int) -> None:
    """Class 0 gets ``value`` in the target prior, the others share the rest: ``value`` in [0, 1/K]."""
    check_fraction("stream.minority_prior", value, 0.0, 1.0 / n_classes, open_low=False, open_high=False)


def majority_prior(value: float, n_classes: int) -> np.ndarray:
    """An offline prior where class 0 has ``value`` and the other classes share the rest equally
    (``value = 1/K``: balanced); ``value`` must lie in [1/K, 1).

    >>> majority_prior(0.6, 3).round(3).tolist()
    [0.6, 0.2, 0.2]
    """
    check_fraction("stream.offline_majority", value, 1.0 / n_classes, 1.0, open_low=False)
    prior = np.full(n_classes, (1.0 - value) / (n_classes - 1))
    prior[0] = value
    return prior


def target_prior(n_classes: int, minority_prior: float) -> np.ndarray:
    """The prior a label shift of severity 1 moves to: class 0 (the offline majority, when there is
    one) becomes the minority with ``minority_prior``, the other classes share the rest equally.

    >>> target_prior(3, 0.1).round(3).tolist()
    [0.1, 0.45, 0.45]
    """
    prior = np.full(n_classes, (1.0 - minority_prior) / (n_classes - 1))
    prior[0] = minority_prior
    return prior


def draw_classes(weight: np.ndarray, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each sample, the class a label shift asks for, or -1 to keep the unshifted draw.

    Sample ``i`` is shifted with chance ``weight[i]`` (drift amount times severity) and then gets a
    class drawn from ``prior``; so the class prior at weight ``w`` is ``(1 - w) p_offline + w prior``.
    Always draws ``2 * len(weight)`` uniforms.
    """
    shifted = rng.random(len(weight)) < weight
    classes = np.searchsorted(np.cumsum(prior), rng.random(len(weight)) * prior.sum(), side="right")
    return np.where(shifted, np.minimum(classes, len(prior) - 1), -1)


def take_by_class(
    wanted: np.ndarray, sample: Callable[[int, int], tuple[np.ndarray, np.ndarray]], max_rounds: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and labels of the classes ``wanted`` (``(m,)`` ints), taken in order from the unshifted
    distribution: ``sample(round, size) -> (x, y)`` draws fresh unshifted data (seeded by ``round``);
    each wanted sample takes the next unused draw of its class, so ``P(x | y)`` stays the offline one."""
    m = len(wanted)
    classes = np.unique(wanted)
    xs, ys = [], []
    for round_ in range(max_rounds):
        x, y = sample(round_, max(m, 256))
        xs.append(x)
        ys.append(y)
        pool_y = np.concatenate(ys)
        if all((pool_y == k).sum() >= (wanted == k).sum() for k in classes):
            break
    else:
        raise RuntimeError(f"could not draw {m} samples of classes {classes.tolist()} in {max_rounds} rounds")
    pool_x = np.concatenate(xs)
    index = np.empty(m, dtype=np.int64)
    for k in classes:
        need = np.flatnonzero(wanted == k)
        index[need] = np.flatnonzero(pool_y == k)[: len(need)]
    return pool_x[index], pool_y[index]


def novel_cluster(
    n: int, centre: np.ndarray, spread: float, rng: np.random.Generator
) -> np.ndarray:
    """``n`` inputs ``~ N(centre, spread^2 I)``, shape ``(n, len(centre))``."""
    return centre + spread * rng.normal(size=(n, len(centre)))


def rotate_planes(x: np.ndarray, basis: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """``x`` ``(n, d)`` rotated by ``degrees`` (``(n,)``, one angle per row) in every plane spanned by
    consecutive column pairs of the orthogonal ``basis`` ``(d, d)``; a last odd axis stays. One
    matrix product when every row has the same angle.

    >>> rotate_planes(np.array([[1.0, 0.0]]), np.eye(2), np.array([90.0])).round(6).tolist()
    [[0.0, 1.0]]
    """
    d = x.shape[1]
    pairs = d // 2 * 2
    degrees = np.asarray(degrees, dtype=float)
    if degrees.size and np.all(degrees == degrees.flat[0]):
        angle = np.deg2rad(degrees.flat[0])
        block = np.eye(d)
        block[0:pairs:2, 0:pairs:2] = block[1:pairs:2, 1:pairs:2] = np.eye(pairs // 2) * np.cos(angle)
        block[1:pairs:2, 0:pairs:2] = np.eye(pairs // 2) * np.sin(angle)
        block[0:pairs:2, 1:pairs:2] = -np.eye(pairs // 2) * np.sin(angle)
        return x @ (basis @ block.T @ basis.T).astype(x.dtype)  # mixed dtypes would skip BLAS
    z = x @ basis
    angle = np.deg2rad(degrees)[:, None]
    a, b = z[:, 0:pairs:2].copy(), z[:, 1:pairs:2].copy()
    z[:, 0:pairs:2] = np.cos(angle) * a - np.sin(angle) * b
    z[:, 1:pairs:2] = np.sin(angle) * a + np.cos(angle) * b
    return z @ basis.T


def unit_vector(rng: np.random.Generator, d: int) -> np.ndarray:
    """A direction drawn uniformly on the unit sphere of dimension ``d``."""
    v = rng.normal(size=d)
    return v / np.linalg.norm(v)


def as_slice(mask: np.ndarray) -> slice | np.ndarray:
    """``mask`` ``(n,)`` bool as a slice when its true entries are one run (a sudden drift: every
    sample from the onset on), so that selecting them neither copies nor gathers; else ``mask``.

    >>> as_slice(np.array([False, True, True])), as_slice(np.array([True, False, True]))
    (slice(1, 3, None), array([ True, False,  True]))
    """
    where = np.flatnonzero(mask)
    if len(where) and where[-1] - where[0] + 1 == len(where):
        return slice(int(where[0]), int(where[-1]) + 1)
    return mask
