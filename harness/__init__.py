"""Drift harness: what freezing a model before deployment costs once the data drifts.

From Python (see the README's "From Python")::

    cfg = harness.compose(["drift.kind=covariate"])       # the config `python -m harness.run` would run
    run = harness.run_experiment(cfg, "results/mine")      # .summary, .windows, .costs, .result, .predictions
    run = harness.load_run("results/mine")                 # the same object, read back
    harness.check_strategy(MyStrategy)                     # a harness.BaseStrategy subclass, checked

``import harness`` imports nothing heavy: each name loads its module on first use, and so do the
public names of the packages (``harness.streams.build_stream``, ``harness.monitor.monitor_run``, ...):
importing one module of a package loads that module, not the whole package.
"""

import atexit
import gc
import os
import sys
from importlib import import_module

__version__ = "0.1.0"


def lazy_names(package: str, public: dict[str, str]):
    """PEP 562 ``__getattr__`` and ``__dir__`` for the module ``package``: each name of ``public``
    (name -> the module that defines it) is imported from its module on first use, then kept."""

    def __getattr__(name: str):
        if name not in public:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(public[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *public})

    return __getattr__, __dir__


def cpu_count() -> int:
    """CPUs this process may run on (its affinity: ``taskset``, a container's CPU set), not the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def skip_final_collection() -> None:
    """Leave the interpreter's last garbage collections out of this process's end: they walk every
    object torch, pandas and matplotlib made (half a second to over a second once jobs have run), and
    the process frees its memory anyway. Registered (once, however often called) by the processes the
    harness owns: those that run a job of the command line's app, and the report processes; never by
    importing the harness into a process of the user's own."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


_PUBLIC = {
    "compose": "harness.pipeline.api",
    "run_experiment": "harness.pipeline.api",
    "load_run": "harness.results.store",
    "RunResult": "harness.results.store",
    "BaseStrategy": "harness.strategies.base",
    "Stream": "harness.streams.stream",
    "check_strategy": "harness.pipeline.testing",
    "ConfigError": "harness.validation.errors",
}
__all__ = [*_PUBLIC, "__version__"]
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
