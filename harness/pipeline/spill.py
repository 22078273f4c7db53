"""Per-sample outputs of the replay kept in memory or, for long streams, on disk.

The replay appends each strategy's probabilities ``(n, K)`` and latencies ``(n,)`` in time order.
:class:`InMemory` fills one preallocated array; :class:`Spill` keeps at most ``chunk`` rows in memory
and appends full chunks to a file, which :class:`SpilledArray` reads back one slice at a time, so
that a 10M-sample stream's float64 probabilities (240 MB per strategy for three classes) are never
held whole. Both give the same values: the file holds the exact float64 bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class InMemory:
    """Rows appended in order into one array of ``shape`` (``(n, K)`` or ``(n,)``)."""

    def __init__(self, shape: tuple[int, ...]):
        self.array = np.empty(shape)
        self.filled = 0

    def append(self, rows) -> None:
        self.array[self.filled : self.filled + len(rows)] = rows
        self.filled += len(rows)

    def result(self) -> np.ndarray:
        return self.array


class SpilledArray:
    """A float64 array of ``shape`` stored row-major in the file ``path``; indexing with a slice
    (step 1) reads just those rows. Enough of an array for the tables of harness/pipeline/summary.py."""

    def __init__(self, path: Path, shape: tuple[int, ...]):
        self.path, self.shape = Path(path), tuple(shape)
        self.width = int(np.prod(self.shape[1:], dtype=np.int64))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        if not isinstance(rows, slice):
            raise TypeError(f"a spilled array is read by slices of rows, not {type(rows).__name__}")
        start, stop, step = rows.indices(len(self))
        if step != 1:
            raise ValueError(f"a spilled array is read by contiguous slices, not step {step}")
        count = max(stop - start, 0)
        values = np.fromfile(self.path, dtype=np.float64, count=count * self.width, offset=start * self.width * 8)
        return values.reshape((count, *self.shape[1:]))

    def __array__(self, dtype=None, copy=None):  # np.asarray(spilled): the whole array, for small streams
        return self[:] if dtype is None else self[:].astype(dtype)


class Spill:
    """Rows appended in order to the file ``path``, ``chunk`` rows at a time."""

    def __init__(self, path: Path, shape: tuple[int, ...], chunk: int):
        self.path, self.shape = Path(path), tuple(shape)
        self.buffer = np.empty((chunk, *self.shape[1:]))
        self.buffered = 0
        self.handle = open(self.path, "wb")

    def append(self, rows) -> None:
        rows = np.broadcast_to(np.asarray(rows, dtype=np.float64), (len(rows), *self.shape[1:]))
        done = 0
        while done < len(rows):
            take = min(len(rows) - done, len(self.buffer) - self.buffered)
            self.buffer[self.buffered : self.buffered + take] = rows[done : done + take]
            self.buffered += take
            done += take
            if self.buffered == len(self.buffer):
                self._flush()

    def _flush(self) -> None:
        self.buffer[: self.buffered].tofile(self.handle)
        self.buffered = 0

    def result(self) -> SpilledArray:
        self._flush()
        self.handle.close()
        return SpilledArray(self.path, self.shape)
