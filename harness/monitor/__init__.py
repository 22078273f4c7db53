"""Label-free monitoring of the frozen model: shift tests, accuracy estimates and novelty scores
computed from inputs and model outputs only (:mod:`harness.monitor.watch`), then scored against
the labels and the known drift schedule (:mod:`harness.monitor.score`). The public names load
:mod:`harness.monitor.pipeline` on first use."""

from harness import lazy_names

_PUBLIC = dict.fromkeys(("TABLES", "check_monitor", "monitor_run", "monitored"), "harness.monitor.pipeline")
__all__ = list(_PUBLIC)
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
