"""The one prequential (test-then-train) loop every strategy is replayed through."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.pipeline.progress import Progress
from harness.pipeline.spill import InMemory, Spill, SpilledArray
from harness.strategies.base import Strategy, tags
from harness.streams.base import DeployData

try:
    import resource
except ImportError:  # not on Windows
    resource = None

PROC_STATUS = Path("/proc/self/status")
TOLERANCE = 1e-4  # how far a served probability may leave [0, 1], and a row's sum may leave 1
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
Arrived = slice | np.ndarray | None  # the samples whose labels arrive after a block (see label_arrival)


@dataclass
class Record:
    """What one strategy did on the deployment stream."""

    proba: np.ndarray | SpilledArray  # (n, K) predicted before the label was known
    label_used: np.ndarray  # (n,) bool: the label was handed to learn()
    latency_us: np.ndarray | SpilledArray  # (n,) per request: its predict call's time + its wait for an inline learn()
    predict_s: float = 0.0
    learn_s: float = 0.0
    n_updates: int = 0
    n_retrains: int = 0
    detections: np.ndarray | None = None  # stream times t of the detector's detections; None: no detector
    memory_t: list[int] = field(default_factory=list)  # sample index at which memory was measured
    memory_bytes: list[int] = field(default_factory=list)
    latency_mode: str = "per_request"  # per_request: calls of serve_batch requests; batched: one call per step
    serve_batch: int = 1  # the most requests one predict call served
    latency_requests: int = 0  # requests whose latency was measured (the others' latency_us is NaN)
    peak_rss_bytes: float = float("nan")
    peak_rss_scope: str = "strategy"  # strategy: peak during this replay; process: since the process started


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


def serving_chunks(start: int, end: int, serve_batch: int) -> list[tuple[int, int]]:
    """The predict calls that serve the requests ``[start, end)`` of one ``step`` block: calls of
    ``serve_batch`` requests (the last may be shorter), or one call for the block when ``serve_batch=0``.
    A call never spans two blocks, because the labels of a block are learned before the next one.

    >>> serving_chunks(0, 5, 2), serving_chunks(0, 5, 0)
    ([(0, 2), (2, 4), (4, 5)], [(0, 5)])
    """
    size = serve_batch if serve_batch > 0 else end - start
    return [(a, min(a + size, end)) for a in range(start, end, size)]


def measured_blocks(n: int, step: int, requests: int, seed: int) -> np.ndarray | None:
    """Which ``step`` blocks of ``n`` samples are served at the serving batch size and timed when
    latency is measured on about ``requests`` requests: ``None`` (all of them) when ``requests`` is 0
    or the stream is no longer; otherwise a ``(n_blocks,)`` bool mask of ``ceil(requests / step)``
    blocks drawn without replacement by a generator seeded by ``seed``, so that periodic events (a
    retraining every k samples) are neither always hit nor always missed.

    >>> measured_blocks(10, 2, 0, seed=0) is None, int(measured_blocks(100, 2, 10, seed=0).sum())
    (True, 5)
    """
    if requests == 0 or n <= requests:
        return None
    n_blocks = -(-n // step)
    mask = np.zeros(n_blocks, dtype=bool)
    mask[np.random.default_rng([seed, 4243]).choice(n_blocks, min(n_blocks, -(-requests // step)), replace=False)] = True
    return mask


def answer_problem(answer, rows: int, n_classes: int) -> tuple[int, str] | None:
    """``None`` when ``answer`` is a ``(rows, n_classes)`` array of probabilities (finite, within
    [0, 1] and rows summing to 1, within :data:`TOLERANCE`); otherwise ``(first bad row, what is wrong)``.

    >>> answer_problem(np.array([[0.5, 0.5], [np.nan, 1.0]]), 2, 2)
    (1, 'its answer is not finite (NaN or infinity)')
    >>> answer_problem(np.array([[0.7, 0.7]]), 1, 2)
    (0, 'its answer is no probability row (entries 0.7 to 0.7, summing to 1.4)')
    """
    shape = np.shape(answer)
    if shape != (rows, n_classes):
        return 0, f"it answered an array of shape {shape} for {rows} requests, not ({rows}, {n_classes})"
    if np.iscomplexobj(answer):
        return 0, "its answer is complex, not real"
    try:
        values = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError) as error:
        return 0, f"its answer is not numeric ({error})"
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        return int(np.argmax(bad)), "its answer is not finite (NaN or infinity)"
    sums = values.sum(axis=1)
    bad = (values < -TOLERANCE).any(axis=1) | (values > 1 + TOLERANCE).any(axis=1) | (np.abs(sums - 1) > TOLERANCE)
    if bad.any():
        row = int(np.argmax(bad))
        return row, (f"its answer is no probability row (entries {values[row].min():.4g} to {values[row].max():.4g}, "
                     f"summing to {sums[row]:.6g})")
    return None


def reset_peak_rss() -> str:
    """Reset the process's resident-set high-water mark where Linux allows it (writing 5 to
    ``/proc/self/clear_refs``), so that the next :func:`peak_rss` is the peak since now: returns
    ``"strategy"``. Elsewhere returns ``"process"``: the peak then counts from the process's start."""
    try:
        PROC_CLEAR_REFS.write_text("5")
        return "strategy"
    except OSError:
        return "process"


def peak_rss() -> float:
    """Peak resident memory of the process in bytes (``VmHWM`` of ``/proc/self/status``; otherwise
    ``getrusage``'s ``ru_maxrss``, the peak since the process started; NaN where neither exists)."""
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(int(line.split()[1]) * 1024)  # reported in kB
    except OSError:
        pass
    if resource is None:
        return float("nan")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(maxrss if sys.platform == "darwin" else maxrss * 1024)  # macOS: bytes; elsewhere: kB


def replay(
    data: DeployData,
    strategies: dict[str, Strategy],
    *,
    n_classes: int,
    label_delay: int = 0,
    labelled: np.ndarray | None = None,
    memory_every: int = 500,
    serve_batch: int = 1,
    progress: bool = True,
    spill_dir: Path | None = None,
    chunk: int = 100_000,
    latency_requests: int = 0,
    seed: int = 0,
    failures: dict[str, str] | None = None,
) -> dict[str, Record]:
    """Replay ``data`` through every strategy, test then train.

    Each strategy goes through the stream in blocks of ``strategy.step`` samples; after each block it
    learns from the samples whose label has arrived: the label of sample ``j`` arrives once the
    prediction of sample ``j + label_delay`` is recorded, and only if ``labelled[j]`` (a ``(n,)`` bool
    mask shared by all strategies; ``None`` reveals every label). No strategy ever sees a label before
    its prediction is stored. Inside a block, requests are served by predict calls of ``serve_batch``
    samples (``0``: one call for the whole block, the faster batched replay); the block, not the call
    size, decides what is learned when, so the predictions do not depend on ``serve_batch`` (up to
    float round-off).

    Latency of a request (``Record.latency_us``) = the time of the predict call that served it (a
    request waits for its whole call) + the time of a ``learn`` run since the previous call (an inline
    update delays the requests served after it). Inputs are handed over as slices of
    ``strategy.prepare(data.X)``. Model memory is measured as deployed, every ``memory_every`` samples and at the
    end; the process's peak resident memory over each strategy's replay (see :func:`reset_peak_rss`).
    A strategy's detections (positions in the sequence of labels it learned from) become stream
    times ``t``.

    With ``spill_dir``, each strategy's probabilities and latencies are appended to files there
    ``chunk`` rows at a time and its record holds :class:`harness.pipeline.spill.SpilledArray` views of them
    (read by slices of rows), so that memory does not grow with the stream by an ``(n, K)`` array per
    strategy; the values are the same.
    """
    if serve_batch < 0:
        raise ValueError(f"serve_batch={serve_batch} is negative; 0 serves each step block in one call")
    n = len(data)
    labelled = np.ones(n, dtype=bool) if labelled is None else np.asarray(labelled, dtype=bool)
    if labelled.shape != (n,):
        raise ValueError(f"labelled must have shape ({n},), got {labelled.shape}")
    labelled_t = np.flatnonzero(labelled)
    records: dict[str, Record] = {}
    bar = Progress(n * len(strategies), "sample", enabled=progress)  # a bar only on a terminal
    for index, (name, strategy) in enumerate(strategies.items()):
        bar.stage(f"replay {name}")
        try:
            records[name] = _replay_one(data, strategy, index, name, n_classes=n_classes, label_delay=label_delay,
                                        labelled=labelled, labelled_t=labelled_t,
                                        memory_every=memory_every, serve_batch=serve_batch, bar=bar,
                                        progress=progress, spill_dir=spill_dir, chunk=chunk,
                                        latency_requests=latency_requests, seed=seed)
        except StrategyFailed as failure:
            if failures is None:
                raise ValueError(str(failure)) from None
            failures[name] = str(failure)
        bar.end_stage()
    bar.close()
    return records


class StrategyFailed(Exception):
    """A strategy served something that is not a block of probabilities, or its code raised."""


def _raised(error: BaseException) -> str:
    """``Type: first line of the message`` of an exception a strategy raised.

    >>> _raised(RuntimeError("boom\\nmore"))
    'RuntimeError: boom'
    """
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def label_arrival(n: int, step: int, label_delay: int, labelled: np.ndarray) -> Iterator[tuple[int, int, Arrived]]:
    """The order of events of a replay of ``n`` samples in blocks of ``step``: for each block,
    ``(start, end, arrived)``: the requests ``[start, end)`` are served (predicted and stored), then
    the labels ``arrived`` are learned (``None``: none arrives). The label of sample ``j`` arrives once
    the prediction of sample ``j + label_delay`` is stored, and only if ``labelled[j]``; ``arrived``
    is a slice when every label is revealed, otherwise the sample indices, in stream order.

    >>> [(s, e, a) for s, e, a in label_arrival(5, 2, 1, np.ones(5, bool))]
    [(0, 2, slice(0, 1, None)), (2, 4, slice(1, 3, None)), (4, 5, slice(3, 4, None))]
    >>> [(s, e, None if a is None else a.tolist()) for s, e, a in label_arrival(4, 2, 0, np.array([1, 0, 0, 1], bool))]
    [(0, 2, [0]), (2, 4, [3])]
    """
    every = bool(np.all(labelled))
    learned = 0  # labels of samples [0, learned) have arrived
    for start in range(0, n, step):
        end = start + step if start + step < n else n
        available = end - label_delay
        arrived = None
        if available > learned:
            if every:
                arrived = slice(learned, available)
            else:
                arrived = learned + np.flatnonzero(labelled[learned:available])
                arrived = arrived if len(arrived) else None
            learned = available
        yield start, end, arrived


class _StrategyReplay:
    """One strategy's replay under way: its stored outputs, its clocks and its memory measurements."""

    def __init__(self, data, strategy, name: str, n_classes: int, outputs: tuple, memory_every: int):
        self.data, self.strategy, self.name, self.n_classes = data, strategy, name, n_classes
        self.proba, self.latency_us = outputs
        self.inputs = strategy.prepare(data.X)
        self.predict_s = self.learn_s = 0.0
        self.waiting = 0.0  # the last learn()'s time: the requests of the next predict call wait for it
        self.n_timed = 0
        self.memory_every = memory_every
        self.memory_t = [0]  # as deployed: every window then has a measurement at or before its end
        self.memory_bytes = [strategy.model_bytes()]
        self.next_memory = memory_every

    def serve(self, a: int, b: int, timed: bool) -> None:
        """One predict call for the requests ``[a, b)``; its time (plus the wait for an inline learn)
        is each request's latency when ``timed``, NaN otherwise."""
        try:
            requests = self.inputs[a:b]  # River's rows become dicts here, outside the timed call
            tic = time.perf_counter()
            answer = self.strategy.predict_proba(requests)
            elapsed = time.perf_counter() - tic
        except Exception as error:  # the strategy's own code failed: it fails, the others go on
            raise StrategyFailed(f"strategy {self.name} failed at t={int(self.data.t[a])}: {_raised(error)}") from error
        problem = answer_problem(answer, b - a, self.n_classes)
        if problem is not None:
            raise StrategyFailed(f"strategy {self.name} failed at t={int(self.data.t[a + problem[0]])}: {problem[1]}")
        self.proba.append(answer)
        self.latency_us.append(np.full(b - a, (elapsed + self.waiting) * 1e6 if timed else np.nan))
        self.n_timed += b - a if timed else 0
        self.predict_s += elapsed
        self.waiting = 0.0

    def learn(self, arrived: Arrived, end: int) -> None:
        """``learn()`` from the samples ``arrived`` whose labels arrived after the block ending at ``end``."""
        inputs = self.inputs
        if isinstance(arrived, slice) or isinstance(inputs, np.ndarray):
            X_new = inputs[arrived]
        else:
            X_new = [inputs[i] for i in arrived]
        try:
            tic = time.perf_counter()
            self.strategy.learn(X_new, self.data.y[arrived])
            self.waiting = time.perf_counter() - tic
        except Exception as error:
            raise StrategyFailed(f"strategy {self.name} failed at t={int(self.data.t[end - 1])} while learning: "
                                 f"{_raised(error)}") from error
        self.learn_s += self.waiting

    def measure_memory(self, end: int, n: int) -> None:
        """The model's memory once ``end`` samples are replayed, every ``memory_every`` and at the end."""
        if end >= self.next_memory or end == n:
            self.memory_t.append(end)
            self.memory_bytes.append(self.strategy.model_bytes())
            self.next_memory = end + self.memory_every


def _outputs(n: int, n_classes: int, index: int, spill_dir: Path | None, chunk: int) -> tuple:
    """Where a strategy's probabilities and latencies go: arrays filled in place, or files in ``spill_dir``."""
    if spill_dir is None:  # filled in place: no list of blocks to concatenate at the end
        return InMemory((n, n_classes)), InMemory((n,))
    return (Spill(Path(spill_dir) / f"{index}-proba.f64", (n, n_classes), chunk),
            Spill(Path(spill_dir) / f"{index}-latency.f64", (n,), chunk))


def _replay_one(data, strategy, index, name, *, n_classes, label_delay, labelled, labelled_t,
                memory_every, serve_batch, bar, progress, spill_dir, chunk, latency_requests, seed) -> Record:
    """One strategy's replay (see :func:`replay`)."""
    n = len(data)
    rss_scope = reset_peak_rss()
    replaying = _StrategyReplay(data, strategy, name, n_classes, _outputs(n, n_classes, index, spill_dir, chunk),
                                memory_every)
    step = strategy.step
    timed = measured_blocks(n, step, latency_requests, seed) if serve_batch else None
    for start, end, arrived in label_arrival(n, step, label_delay, labelled):
        sampled_out = timed is not None and not timed[start // step]
        for a, b in [(start, end)] if sampled_out else serving_chunks(start, end, serve_batch):
            replaying.serve(a, b, timed=not sampled_out)
        if arrived is not None:
            replaying.learn(arrived, end)
        replaying.measure_memory(end, n)
        if progress:
            bar.update(end - start)
    peak = peak_rss()
    return _record(replaying, labelled, labelled_t, n - label_delay, serve_batch, (peak, rss_scope))


def _record(replaying: _StrategyReplay, labelled, labelled_t, arrived_until: int, serve_batch: int,
            rss: tuple[float, str]) -> Record:
    """The :class:`Record` of a finished replay: the labels of samples before ``arrived_until`` arrived
    and every arrived label was learned from, unless the strategy says which it took (optional
    ``labels_used``: positions among the labels it was given); ``rss``: the peak and its scope."""
    strategy, n = replaying.strategy, len(labelled)
    step = strategy.step
    record = Record(
        proba=replaying.proba.result(),
        label_used=labelled & (np.arange(n) < arrived_until),
        latency_us=replaying.latency_us.result(),
        predict_s=replaying.predict_s,
        learn_s=replaying.learn_s,
        memory_t=replaying.memory_t,
        memory_bytes=replaying.memory_bytes,
        latency_mode="per_request" if serve_batch else "batched",
        serve_batch=min(serve_batch, step) if serve_batch else step,
        latency_requests=replaying.n_timed,
        peak_rss_bytes=rss[0],
        peak_rss_scope=rss[1],
    )
    record.n_updates = strategy.n_updates
    record.n_retrains = strategy.n_retrains
    if strategy.detections is not None:
        record.detections = labelled_t[np.asarray(strategy.detections, dtype=int)]
    taken = strategy.labels_used if tags(strategy).selects_labels else None  # it took only some labels
    if taken is not None:
        record.label_used = np.zeros(n, dtype=bool)
        record.label_used[labelled_t[np.asarray(taken, dtype=int)]] = True
    return record
