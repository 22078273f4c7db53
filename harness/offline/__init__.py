"""Pre-deployment optimisation: search on a static validation split, train, calibrate, freeze, export.
The public names load :mod:`harness.offline.freeze` (and torch) on first use, so that a light module
of this package (``cache_location``) loads no model code."""

from harness import lazy_names

_PUBLIC = dict.fromkeys(("Pretrained", "export", "optimise_and_freeze"), "harness.offline.freeze")
__all__ = list(_PUBLIC)
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
