"""How well one per-sample score ranks, for every phase at once, in O(n) memory of a few bytes a sample.

:func:`rank_score` sorts a score once (one stable argsort of the whole stream) and walks the sorted
order a block at a time, counting per phase: the AUROC of each target (exact: twice the Mann-Whitney
U statistic as an integer, ties counted half by tie groups of equal values) and the selective risk
at each coverage (the errors among the first ``k`` samples of the phase in that order, which is the
stable order of the phase's own scores). The numbers equal :func:`harness.monitor.novelty.auroc_score`
and :func:`harness.monitor.novelty.risk_coverage` on each phase's samples, without copying them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BLOCK = 1 << 18  # samples of the sorted order counted at a time: about 100 bytes each of temporaries (26 MB)


@dataclass
class _Tally:
    """Running counts of one phase along the sorted order: samples seen, errors and confident errors
    among them, NaN scores, and per target the negatives seen, the positives and twice U."""

    seen: int = 0
    errors: int = 0
    confident: int = 0
    nan: int = 0
    negatives: dict = field(default_factory=dict)
    positives: dict = field(default_factory=dict)
    twice_u: dict = field(default_factory=dict)


def _block_end(values: np.ndarray, order: np.ndarray, end: int) -> int:
    """Move ``end`` past the tie group of the sample before it, so that no tie group spans two blocks:
    every value up to the last one before ``end`` lies before the new end (NaN groups nothing)."""
    if end >= len(order):
        return len(order)
    last = values[order[end - 1]]
    return end if np.isnan(last) else int(np.count_nonzero(values <= last))


def _count_block(tally: _Tally, chosen: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 targets: dict[str, np.ndarray]) -> None:
    """Add one block's tie groups (``starts``/``ends`` in the block) of the phase's samples ``chosen``."""
    for name, target in targets.items():
        positive = np.concatenate([[0], np.cumsum(chosen & target, dtype=np.int64)])
        negative = np.concatenate([[0], np.cumsum(chosen & ~target, dtype=np.int64)])
        group_pos = positive[ends] - positive[starts]
        below = tally.negatives.get(name, 0) + negative[starts]  # negatives of every lower group
        group_neg = negative[ends] - negative[starts]
        tally.twice_u[name] = tally.twice_u.get(name, 0) + int(np.sum(group_pos * (2 * below + group_neg)))
        tally.positives[name] = tally.positives.get(name, 0) + int(positive[-1])
        tally.negatives[name] = tally.negatives.get(name, 0) + int(negative[-1])


def _risk_block(tally: _Tally, chosen: np.ndarray, error: np.ndarray, confident: np.ndarray,
                wanted: dict[float, int], risks: dict[float, tuple[float, float]]) -> None:
    """Settle each coverage whose ``k``-th sample of the phase lies in this block: the error rate and
    the confident-error rate among the phase's first ``k`` samples of the sorted order."""
    count = np.cumsum(chosen, dtype=np.int64)
    inside = [c for c, k in wanted.items() if c not in risks and tally.seen < k <= tally.seen + count[-1]]
    if inside:
        errors = np.cumsum(chosen & error, dtype=np.int64)
        confidents = np.cumsum(chosen & confident, dtype=np.int64)
        for coverage in inside:
            k = wanted[coverage]
            at = int(np.searchsorted(count, k - tally.seen))  # the k-th sample of the phase
            risks[coverage] = ((tally.errors + int(errors[at])) / k, (tally.confident + int(confidents[at])) / k)
    tally.seen += int(count[-1])
    tally.errors += int(np.count_nonzero(chosen & error))
    tally.confident += int(np.count_nonzero(chosen & confident))


@dataclass(frozen=True)
class Ranked:
    """One score's ranking, per phase: ``auroc[phase][target]`` and ``risk[phase][coverage] =
    (error_rate, confident_error_rate)``, with ``counts[phase][target] = (n_pos, n_neg)``."""

    auroc: dict[str, dict[str, float]]
    risk: dict[str, dict[float, tuple[float, float]]]
    counts: dict[str, dict[str, tuple[int, int]]]


def rank_score(values: np.ndarray, phases: dict[str, np.ndarray], targets: dict[str, np.ndarray],
               error: np.ndarray, confident_error: np.ndarray, coverages, block: int = BLOCK) -> Ranked:
    """Rank ``values`` ``(n,)`` (higher = less certain) once and score it in every phase: ``phases``
    maps a name to its samples as a boolean ``(n,)`` mask, or to ``None`` for every sample;
    ``targets`` maps a name to a boolean ``(n,)`` (the positives, e.g. mistakes); ``error`` and
    ``confident_error`` are boolean ``(n,)``. A phase with a NaN score has a NaN AUROC (as scipy's
    Mann-Whitney U); NaN scores sort last."""
    order = np.argsort(values, kind="stable")
    sizes = {name: len(values) if mask is None else int(np.count_nonzero(mask)) for name, mask in phases.items()}
    wanted = {name: {float(c): max(1, round(c * size)) for c in coverages}  # coverages in (0, 1]
              for name, size in sizes.items()}
    tallies = {name: _Tally() for name in phases}
    risks: dict[str, dict] = {name: {} for name in phases}
    start = 0
    while start < len(order):
        end = _block_end(values, order, min(start + block, len(order)))
        at = order[start:end]
        sorted_values = values[at]
        new = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
        starts = np.flatnonzero(new)
        ends = np.append(starts[1:], len(at))
        block_targets = {name: target[at] for name, target in targets.items()}
        block_error, block_confident = error[at], confident_error[at]
        for name, mask in phases.items():
            chosen = np.ones(len(at), dtype=bool) if mask is None else mask[at]
            tally = tallies[name]
            tally.nan += int(np.count_nonzero(chosen & np.isnan(sorted_values)))
            _count_block(tally, chosen, starts, ends, block_targets)
            _risk_block(tally, chosen, block_error, block_confident, wanted[name], risks[name])
        start = end
    auroc, counts = {}, {}
    for name, tally in tallies.items():
        auroc[name], counts[name] = {}, {}
        for target in targets:
            pos, neg = tally.positives.get(target, 0), tally.negatives.get(target, 0)
            counts[name][target] = (pos, neg)
            empty_or_nan = pos == 0 or neg == 0 or tally.nan > 0
            auroc[name][target] = float("nan") if empty_or_nan else tally.twice_u[target] / 2 / (pos * neg)
    return Ranked(auroc, {name: {float(c): risks[name][float(c)] for c in coverages} for name in phases}, counts)
