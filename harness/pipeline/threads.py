"""The process's thread pools (BLAS, OpenMP), found once.

A module of its own: a job's task function may be pickled by value (joblib pickles a ``__main__``
entry point), and a cached function pickles only by reference to an importable module.
"""

from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController


@functools.cache
def thread_pools() -> ThreadpoolController:
    """Found once per process: a fresh search reads every loaded library (10 ms a call), and the
    harness has loaded them all once ``harness.run`` is imported."""
    return ThreadpoolController()
