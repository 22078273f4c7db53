"""The memory a run needs, estimated from its config before anything is drawn or trained, so that a
size that cannot fit (``stream.n_deploy=1000000000``) is refused with the estimate instead of tried."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness.strategies.river import RiverClassifier
from harness.streams.stream import stream_tags
from harness.validation.errors import ConfigError


def available_memory() -> int:
    """Bytes this machine can give a new process now: ``MemAvailable`` on Linux, else physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_parts(cfg: DictConfig, stream, strategies: dict) -> list[tuple[str, str, int]]:
    """The big allocations of a run as ``(key that sets it, what and why, bytes)``; a lower bound:
    arrays are counted at their size, Python and framework overheads only for River's dicts."""
    d, k, n_deploy = stream.n_features, stream.n_classes, stream.n_deploy
    n_offline = cfg.stream.n_offline
    width, batch, depth = max(cfg.offline.search.width), max(cfg.offline.search.batch_size), cfg.model.depth
    n_strategies = len(strategies)
    parts = [
        ("stream.n_deploy", f"the deployment stream: {n_deploy} samples x {d} features x 8 bytes", n_deploy * d * 8),
        (
            "stream.n_deploy",
            f"the predictions: {n_strategies} strategies x {n_deploy} samples x {k} classes x 8 bytes",
            n_strategies * n_deploy * k * 8,
        ),
        ("stream.n_offline", f"the offline data: {n_offline} samples x {d} features x 8 bytes", n_offline * d * 8),
    ]
    if any(isinstance(strategy, RiverClassifier) for strategy in strategies.values()):
        what = f"River's feature dicts: {n_deploy} samples x {d} features x 64 bytes"
        parts.append(("stream.n_deploy", what, n_deploy * d * 64))
    if "hidden" in cfg.stream:
        n, hidden = n_offline + n_deploy, cfg.stream.hidden
        what = f"the teacher's hidden layer: {n} samples x {hidden} units x 8 bytes"
        parts.append(("stream.hidden", what, n * hidden * 8))
    if cfg.model.kind == "mlp" and depth > 0:
        n_params = d * width + (depth - 1) * width * width + width * k
        what = (
            f"the network: {depth} layers of width {width}, {n_params} parameters x 16 bytes (weights, gradients, "
            f"Adam's two moments) and {batch} x {width} x {depth} activations x 8 bytes"
        )
        parts.append(("model.depth", what, n_params * 16 + batch * width * depth * 8))
    if cfg.model.kind == "text":
        parts += text_parts(cfg.model, stream, width=width, batch=batch)
    return parts


def text_parameters(rows: int, *, width: int, depth: int, n_classes: int) -> tuple[int, int]:
    """``(embedding, head)`` parameter counts of a :class:`~harness.offline.text_model.TextNet` with
    ``rows`` embedding rows (padding and ``<unk>`` included), biases counted.

    >>> text_parameters(1025, width=8, depth=1, n_classes=4)
    (8200, 108)
    """
    return rows * width, depth * (width * width + width) + width * n_classes + n_classes


def text_rows(model, stream) -> int:
    """Embedding rows of ``model=text`` on ``stream``: ``model.buckets + 1`` with a hashed vocabulary;
    with a closed one at most the stream's token table (every id but padding) plus padding and
    ``<unk>``, or for a token stream without a table every token of its offline rows."""
    if model.vocab == "hashed":
        return model.buckets + 1
    tokens = stream.tokens if stream_tags(stream).token_table else None
    return len(tokens) + 1 if tokens is not None else stream.n_offline * stream.n_features + 2


def text_parts(model, stream, *, width: int, batch: int) -> list[tuple[str, str, int]]:
    """The text network's embedding (keyed by ``model.buckets`` when hashed, else by ``model.kind``:
    the closed vocabulary's size is the stream's) and its head (``model.depth``), each parameter
    x 16 bytes (weights, gradients, Adam's two moments), with the activations of a batch."""
    rows = text_rows(model, stream)
    embedding, head = text_parameters(rows, width=width, depth=model.depth, n_classes=stream.n_classes)
    length = stream.n_features
    key = "model.buckets" if model.vocab == "hashed" else "model.kind"
    return [
        (key, f"the text network's embedding: {rows} rows of width {width}, {embedding} parameters x 16 bytes and "
              f"{batch} x {length} x {width} looked-up rows x 8 bytes", embedding * 16 + batch * length * width * 8),
        ("model.depth", f"the text network's head: {model.depth} layers of width {width}, {head} parameters x 16 "
                        f"bytes and {batch} x {width} x {model.depth} activations x 8 bytes",
         head * 16 + batch * width * model.depth * 8),
    ]


def check_memory(cfg: DictConfig, stream, strategies: dict, available: int | None = None) -> None:
    """Refuse a run whose arrays alone exceed the memory available, naming the key that asks most."""
    parts = memory_parts(cfg, stream, strategies)
    total = sum(size for _, _, size in parts)
    available = available_memory() if available is None else available
    if total <= available:
        return
    by_key: dict[str, int] = {}
    for key, _, size in parts:
        by_key[key] = by_key.get(key, 0) + size
    key = max(by_key, key=by_key.get)
    details = "; ".join(f"{what} = {_gb(size)}" for k, what, size in parts if k == key)
    raise ConfigError(
        f"{key}={OmegaConf.select(cfg, key)} needs about {_gb(total)} of memory ({details}); "
        f"this machine has {_gb(available)} available"
    )


def _gb(size: int) -> str:
    """``80 GB``, ``1.5 GB``, ``0.02 GB``."""
    gb = size / 1e9
    return f"{gb:.0f} GB" if gb >= 10 else f"{gb:.2g} GB"
