"""Drift harness: what freezing a model before deployment costs once the data drifts.

From Python (see the README's "From Python")::

    cfg = harness.compose(["drift.kind=covariate"])       # the config `python -m harness.run` would run
    run = harness.run_experiment(cfg, "results/mine")      # .summary, .windows, .costs, .result, .predictions
    run = harness.load_run("results/mine")                 # the same object, read back
    harness.check_strategy(MyStrategy)                     # a harness.BaseStrategy subclass, checked

``import harness`` imports nothing heavy: each name loads its module on first use.
"""

from importlib import import_module

__version__ = "0.1.0"

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


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
