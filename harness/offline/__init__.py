"""Pre-deployment optimisation: search on a static validation split, train, calibrate, freeze, export.

Importing the package imports nothing heavy (the config's cache location lives here too, and the
command line's start-up reads it): each public name loads torch's modules on first use."""

from importlib import import_module

_PUBLIC = {"Pretrained": "harness.offline.freeze", "export": "harness.offline.freeze",
           "optimise_and_freeze": "harness.offline.freeze"}
__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'harness.offline' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
