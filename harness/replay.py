"""The one prequential (test-then-train) loop every strategy is replayed through."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from harness.strategies.base import Strategy
from harness.streams.base import DeployData


@dataclass
class Record:
    """What one strategy did on the deployment stream."""

    proba: np.ndarray  # (n, K) predicted before the label was known
    label_used: np.ndarray  # (n,) bool: the label was handed to learn()
    latency_us: np.ndarray  # (n,) time of the predict call that served the sample / samples it served
    predict_s: float = 0.0
    learn_s: float = 0.0
    n_updates: int = 0
    memory_t: list[int] = field(default_factory=list)  # sample index at which memory was measured
    memory_bytes: list[int] = field(default_factory=list)


def replay(
    data: DeployData,
    strategies: dict[str, Strategy],
    *,
    n_classes: int,
    label_delay: int = 0,
    memory_every: int = 500,
    progress: bool = True,
) -> dict[str, Record]:
    """Replay ``data`` through every strategy, test then train.

    Each strategy predicts ``strategy.step`` samples at a time; after each block it learns from the
    samples whose label has arrived: the label of sample ``j`` arrives once the prediction of sample
    ``j + label_delay`` is recorded. No strategy ever sees a label before its prediction is stored.
    Model memory is measured every ``memory_every`` samples and at the end.
    """
    n = len(data)
    records: dict[str, Record] = {}
    bar = tqdm(total=n * len(strategies), unit="sample", disable=not progress, leave=False, mininterval=0.5)
    for name, strategy in strategies.items():
        bar.set_description(f"replay {name}")
        # Per-block results go to lists and become arrays at the end: numpy slice assignment per
        # sample would cost a River learner a tenth of its speed.
        probas, predict_times, learned_until, learn_times = [], [], [], []
        memory_t, memory_bytes = [], []
        learned = 0  # samples [0, learned) have been learned from
        next_memory = 0
        for start in range(0, n, strategy.step):
            end = min(start + strategy.step, n)
            block = data.X[start:end]
            tic = time.perf_counter()
            probas.append(strategy.predict_proba(block))
            predict_times.append(time.perf_counter() - tic)

            available = end - label_delay
            if available > learned:
                X_new = block if learned == start and available == end else data.X[learned:available]
                tic = time.perf_counter()
                strategy.learn(X_new, data.y[learned:available])
                learn_times.append(time.perf_counter() - tic)
                learned = available
                learned_until.append(learned)

            if end >= next_memory or end == n:
                memory_t.append(end)
                memory_bytes.append(strategy.model_bytes())
                next_memory = end + memory_every
            bar.update(end - start)
        block_sizes = np.diff(np.r_[np.arange(0, n, strategy.step), n])
        label_used = np.zeros(n, dtype=bool)
        label_used[: learned_until[-1] if learned_until else 0] = True
        records[name] = Record(
            proba=np.concatenate(probas),
            label_used=label_used,
            latency_us=np.repeat(np.asarray(predict_times) * 1e6 / block_sizes, block_sizes),
            predict_s=float(np.sum(predict_times)),
            learn_s=float(np.sum(learn_times)),
            n_updates=strategy.n_updates,
            memory_t=memory_t,
            memory_bytes=memory_bytes,
        )
    bar.close()
    return records
