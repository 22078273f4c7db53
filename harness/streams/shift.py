"""Building blocks shared by the families to induce a drift of one kind only.

- label shift: :func:`target_prior` and :func:`draw_classes` choose which class each shifted sample
  must have; :func:`take_by_class` fills those samples from a pool drawn from the unshifted
  distribution, so ``P(x | y)`` is untouched;
- novel inputs: :func:`novel_cluster` places a compact cluster at a given distance from the data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.streams.base import check_fraction


def check_minority_prior(value: float, n_classes: int) -> None:
    """The target prior gives ``value`` to every class but class 0, so it must be below ``1 / (K - 1)``."""
    check_fraction("stream.minority_prior", value, 0.0, 1.0 / n_classes, open_low=False, open_high=False)


def target_prior(n_classes: int, minority_prior: float) -> np.ndarray:
    """The prior a label shift of severity 1 moves to: class 0 is the majority, every other class has
    ``minority_prior``.

    >>> target_prior(3, 0.05).round(3).tolist()
    [0.9, 0.05, 0.05]
    """
    prior = np.full(n_classes, float(minority_prior))
    prior[0] = 1.0 - minority_prior * (n_classes - 1)
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


def unit_vector(rng: np.random.Generator, d: int) -> np.ndarray:
    """A direction drawn uniformly on the unit sphere of dimension ``d``."""
    v = rng.normal(size=d)
    return v / np.linalg.norm(v)
