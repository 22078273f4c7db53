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
    n_retrains: int = 0
    detections: np.ndarray | None = None  # stream times t of the detector's detections; None: no detector
    memory_t: list[int] = field(default_factory=list)  # sample index at which memory was measured
    memory_bytes: list[int] = field(default_factory=list)


def label_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    """Which of ``n`` deployment labels are ever revealed: exactly ``round(fraction * n)`` of them
    (at least one), drawn without replacement from a generator seeded by ``seed`` alone, so that
    every strategy of a run sees the same ones. ``fraction=1`` reveals all.

    >>> label_mask(10, 0.3, seed=0).sum(), bool(label_mask(4, 1.0, seed=0).all())
    (np.int64(3), True)
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction={fraction} is outside (0, 1]")
    mask = np.zeros(n, dtype=bool)
    chosen = np.random.default_rng([seed, 4242]).choice(n, size=max(1, int(round(fraction * n))), replace=False)
    mask[chosen] = True
    return mask


def replay(
    data: DeployData,
    strategies: dict[str, Strategy],
    *,
    n_classes: int,
    label_delay: int = 0,
    labelled: np.ndarray | None = None,
    memory_every: int = 500,
    progress: bool = True,
) -> dict[str, Record]:
    """Replay ``data`` through every strategy, test then train.

    Each strategy predicts ``strategy.step`` samples at a time; after each block it learns from the
    samples whose label has arrived: the label of sample ``j`` arrives once the prediction of sample
    ``j + label_delay`` is recorded, and only if ``labelled[j]`` (a ``(n,)`` bool mask shared by all
    strategies; ``None`` reveals every label). No strategy ever sees a label before its prediction is
    stored. Inputs are handed over as slices of ``strategy.prepare(data.X)``. Model memory is
    measured every ``memory_every`` samples and at the end. A strategy's detections (positions in
    the sequence of labels it learned from) become stream times ``t``.
    """
    n = len(data)
    all_labelled = labelled is None or bool(np.all(labelled))
    labelled = np.ones(n, dtype=bool) if labelled is None else np.asarray(labelled, dtype=bool)
    if labelled.shape != (n,):
        raise ValueError(f"labelled must have shape ({n},), got {labelled.shape}")
    labelled_t = np.flatnonzero(labelled)
    records: dict[str, Record] = {}
    bar = tqdm(total=n * len(strategies), unit="sample", disable=not progress, leave=False, mininterval=0.5)
    for name, strategy in strategies.items():
        bar.set_description(f"replay {name}")
        blocks: list[np.ndarray] = []
        elapsed_per_block: list[float] = []
        learn_s = 0.0
        memory_t: list[int] = []
        memory_bytes: list[int] = []
        inputs = strategy.prepare(data.X)
        step = strategy.step
        y = data.y
        learned = 0  # labels of samples [0, learned) have arrived
        next_memory = 0
        for start in range(0, n, step):
            end = start + step if start + step < n else n
            block = inputs[start:end]
            tic = time.perf_counter()
            answer = strategy.predict_proba(block)
            elapsed = time.perf_counter() - tic
            blocks.append(answer)
            elapsed_per_block.append(elapsed)

            available = end - label_delay
            if available > learned:
                if all_labelled:
                    X_new = block if learned == start and available == end else inputs[learned:available]
                    y_new = y[learned:available]
                else:
                    arrived = learned + np.flatnonzero(labelled[learned:available])
                    X_new = inputs[arrived] if isinstance(inputs, np.ndarray) else [inputs[i] for i in arrived]
                    y_new = y[arrived]
                if len(y_new):
                    tic = time.perf_counter()
                    strategy.learn(X_new, y_new)
                    learn_s += time.perf_counter() - tic
                learned = available

            if end >= next_memory or end == n:
                memory_t.append(end)
                memory_bytes.append(strategy.model_bytes())
                next_memory = end + memory_every
            if progress:
                bar.update(end - start)
        proba = np.concatenate(blocks).astype(np.float64, copy=False)
        if proba.shape != (n, n_classes):
            raise ValueError(f"strategy {name} predicted probabilities of shape {proba.shape}, not ({n}, {n_classes})")
        sizes = np.diff(np.append(np.arange(0, n, step), n))
        record = Record(
            proba=proba,
            label_used=labelled & (np.arange(n) < learned),  # every arrived label was learned from
            latency_us=np.repeat(np.asarray(elapsed_per_block) * 1e6 / sizes, sizes),
            predict_s=float(sum(elapsed_per_block)),
            learn_s=learn_s,
            memory_t=memory_t,
            memory_bytes=memory_bytes,
        )
        record.n_updates = strategy.n_updates
        record.n_retrains = strategy.n_retrains
        if strategy.detections is not None:
            record.detections = labelled_t[np.asarray(strategy.detections, dtype=int)]
        taken = getattr(strategy, "labels_used", None)  # optional: a strategy that takes only some labels
        if taken is not None:
            record.label_used = np.zeros(n, dtype=bool)
            record.label_used[labelled_t[np.asarray(taken, dtype=int)]] = True
        records[name] = record
    bar.close()
    return records
