"""``model=text``: a small torch text classifier over rows of token ids (``stream=prompts``).

Token embeddings, mean pooling over the non-padding tokens, a ReLU MLP head. The vocabulary lives
inside the module, so it is frozen, hashed and exported with the weights:

- ``closed`` (``model.vocab=closed``): the token ids of the training data, a sorted buffer
  ``known``; id 0 is padding, a known id ``known[i]`` is row ``i + 2`` of the embedding, and every
  other id is ``<unk>`` (row 1), whose embedding no offline query trains;
- ``hashed`` (``model.vocab=hashed``): every id goes to one of ``buckets`` rows by a multiplicative
  hash, so a fine-tuned copy can learn words it never saw offline (colliding words share a row).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from harness.validation.errors import ConfigError

VOCABS = ("closed", "hashed")
PAD, UNK = 0, 1
_HASH = 2654435761  # Knuth's multiplicative constant


def text_kind(vocab: str, buckets: int) -> str:
    """The network kind a ``model=text`` config names: ``text`` or ``text:hashed:<buckets>``.

    >>> text_kind("closed", 1024), text_kind("hashed", 512)
    ('text', 'text:hashed:512')
    """
    return "text" if vocab == "closed" else f"text:hashed:{buckets}"


def parse_kind(kind: str) -> int | None:
    """The bucket count of a ``text:hashed:<buckets>`` kind, ``None`` for ``text``."""
    if kind == "text":
        return None
    parts = kind.split(":")
    if len(parts) != 3 or parts[:2] != ["text", "hashed"] or not parts[2].isdigit() or int(parts[2]) < 1:
        raise ConfigError(f"model.kind={kind!r} is not 'text' or 'text:hashed:<buckets>'")
    return int(parts[2])


class TextNet(nn.Module):
    """Logits ``(n, n_classes)`` of float32 token ids ``(n, L)`` (0 = padding).

    ``known``: the sorted token ids of the closed vocabulary (``None`` with ``buckets``); ``width``:
    embedding size and hidden width; ``depth``: hidden layers of the head."""

    def __init__(self, *, n_classes: int, width: int, depth: int, known: np.ndarray | None = None,
                 buckets: int | None = None):
        super().__init__()
        self.buckets = buckets
        if buckets is None:
            ids = np.unique(np.asarray(known if known is not None else [], dtype=np.int64))
            ids = ids[ids > 0]
            self.register_buffer("known", torch.as_tensor(ids if len(ids) else np.array([-1]), dtype=torch.int64))
            self.register_load_state_dict_pre_hook(_resize_known)
            rows = len(self.known) + 2
        else:
            rows = buckets + 1
        self.embedding = nn.Embedding(rows, width, padding_idx=PAD)
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, width), nn.ReLU()]
        self.head = nn.Sequential(*layers, nn.Linear(width, n_classes))

    def index(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding rows ``(n, L)`` int64 of the token ids ``x``: 0 padding, 1 ``<unk>`` (closed)."""
        ids = x.to(torch.int64)
        if self.buckets is None:
            position = torch.searchsorted(self.known, ids).clamp(max=self.known.numel() - 1)
            rows = torch.where(self.known[position] == ids, position + 2, torch.full_like(ids, UNK))
        else:
            rows = (ids * _HASH) % self.buckets + 1
        return torch.where(ids > 0, rows, torch.zeros_like(ids))

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Mean embedding ``(n, width)`` of each row's tokens (zeros for an empty row)."""
        rows = self.index(x)
        mask = (rows > 0).unsqueeze(-1).to(self.embedding.weight.dtype)
        return (self.embedding(rows) * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer ``(n, width)``: what the label-free monitors score."""
        return self.head[:-1](self.pooled(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(x))


def _resize_known(module: TextNet, state_dict, prefix, *args) -> None:
    """A saved closed vocabulary has its own size: take its shape (and the embedding's) before loading."""
    known = state_dict.get(prefix + "known")
    if known is not None and known.shape != module.known.shape:
        module.known = torch.empty_like(known)
        width = module.embedding.embedding_dim
        module.embedding = nn.Embedding(known.numel() + 2, width, padding_idx=PAD)


def build_text_network(kind: str, *, n_classes: int, width: int, depth: int, inputs: np.ndarray | None) -> TextNet:
    """The ``TextNet`` of ``kind`` (``text`` or ``text:hashed:<buckets>``); a closed vocabulary is the
    token ids of ``inputs`` (the training rows; ``None``: filled in when a state dict is loaded)."""
    buckets = parse_kind(kind)
    known = None if buckets is not None or inputs is None else np.asarray(inputs)
    return TextNet(n_classes=n_classes, width=width, depth=depth, known=known, buckets=buckets)
