"""Label-free monitoring of the frozen model: shift tests, accuracy estimates and novelty scores
computed from inputs and model outputs only (:mod:`harness.monitor.watch`), then scored against
the labels and the known drift schedule (:mod:`harness.monitor.score`)."""

from harness.monitor.pipeline import TABLES, check_monitor, monitor_run, monitored

__all__ = ["TABLES", "check_monitor", "monitor_run", "monitored"]
