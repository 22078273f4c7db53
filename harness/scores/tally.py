"""Per-group sums of per-sample scores, accumulated one block of samples at a time.

A 10M-sample stream's probabilities ``(n, K)`` are never scored whole: :func:`blocks` cuts the
stream into blocks of a fixed number of samples (a multiple of the metrics window, so that no window
straddles two blocks), each block adds its counts and float sums to a :class:`Sums` per group (phase,
``all``, ``novel``), and the float sums of the blocks are added with ``math.fsum`` at the end. The
block size is a constant, not ``replay.chunk``: the numbers do not depend on how the replay or the
writer chunked the stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.scores import metrics

BLOCK = 65_536  # samples per block of scoring (rounded up to a multiple of the window)


def blocks(n: int, window: int = 1) -> list[tuple[int, int]]:
    """``(start, end)`` of the blocks of ``n`` samples: ``BLOCK`` rounded up to a multiple of ``window``.

    >>> blocks(10, window=4)[:1], len(blocks(200_000, window=500))
    ([(0, 10)], 4)
    """
    size = window * -(-BLOCK // window)
    return [(start, min(start + size, n)) for start in range(0, n, size)]


@dataclass
class Sums:
    """Counts and float sums of one group of samples (see :func:`add`), and the scores they give
    (the definitions of ``harness.scores.metrics``)."""

    n: int = 0
    correct: int = 0
    wrong: int = 0
    confident_wrong: int = 0
    bin_n: np.ndarray = field(default_factory=lambda: np.zeros(metrics.ECE_BINS, np.int64))
    bin_correct: np.ndarray = field(default_factory=lambda: np.zeros(metrics.ECE_BINS, np.int64))
    bin_confidence: list = field(default_factory=list)  # (ECE_BINS,) float sums, one per block
    confidence: list = field(default_factory=list)  # one float sum per block, likewise below
    brier: list = field(default_factory=list)
    nll: list = field(default_factory=list)

    def add(self, y: np.ndarray, proba: np.ndarray, *, tau: float) -> None:
        """Add the samples ``y`` ``(m,)`` with probabilities ``proba`` ``(m, K)``."""
        y_pred, confidence = metrics.predict(proba)
        correct = y_pred == y
        bins = metrics.confidence_bins(confidence)
        self.n += len(y)
        self.correct += int(correct.sum())
        self.wrong += int((~correct).sum())
        self.confident_wrong += int(metrics.confident_mistakes(correct, confidence, tau=tau).sum())
        self.bin_n += np.bincount(bins, minlength=metrics.ECE_BINS)
        self.bin_correct += np.bincount(bins, weights=correct, minlength=metrics.ECE_BINS).astype(np.int64)
        self.bin_confidence.append(np.bincount(bins, weights=confidence, minlength=metrics.ECE_BINS))
        self.confidence.append(float(np.sum(confidence)))
        self.brier.append(float(np.sum(metrics.squared_errors(y, proba))))
        self.nll.append(float(np.sum(metrics.log_losses(y, proba))))

    def scores(self) -> dict:
        """``n``, accuracy, ECE, Brier, NLL, confident-error rate and share, mean confidence."""
        if not self.n:
            nan = float("nan")
            return {"n": 0, **dict.fromkeys(["accuracy", "ece", "brier", "nll", "confident_error_rate",
                                             "confident_error_share", "mean_confidence"], nan)}
        bin_confidence = np.array([math.fsum(b[k] for b in self.bin_confidence) for k in range(metrics.ECE_BINS)])
        return {
            "n": self.n,
            "accuracy": self.correct / self.n,
            "ece": metrics.ece_from_bins(self.bin_n, self.bin_correct, bin_confidence),
            "brier": math.fsum(self.brier) / self.n,
            "nll": math.fsum(self.nll) / self.n,
            "confident_error_rate": self.confident_wrong / self.n,
            "confident_error_share": self.confident_wrong / self.wrong if self.wrong else float("nan"),
            "mean_confidence": math.fsum(self.confidence) / self.n,
        }
