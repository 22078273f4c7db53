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
        record = Record(
            proba=np.empty((n, n_classes)),
            label_used=np.zeros(n, dtype=bool),
            latency_us=np.empty(n),
        )
        learned = 0  # samples [0, learned) have been learned from
        next_memory = 0
        for start in range(0, n, strategy.step):
            end = min(start + strategy.step, n)
            block = data.X[start:end]
            tic = time.perf_counter()
            record.proba[start:end] = strategy.predict_proba(block)
            elapsed = time.perf_counter() - tic
            record.predict_s += elapsed
            record.latency_us[start:end] = elapsed * 1e6 / (end - start)

            available = max(0, end - label_delay)
            if available > learned:
                X_new = block if (learned, available) == (start, end) else data.X[learned:available]
                tic = time.perf_counter()
                strategy.learn(X_new, data.y[learned:available])
                record.learn_s += time.perf_counter() - tic
                record.label_used[learned:available] = True
                learned = available

            if end >= next_memory or end == n:
                record.memory_t.append(end)
                record.memory_bytes.append(strategy.model_bytes())
                next_memory = end + memory_every
            bar.update(end - start)
        record.n_updates = strategy.n_updates
        records[name] = record
    bar.close()
    return records
