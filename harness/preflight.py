"""Every check made before anything is computed or created.

:func:`preflight` builds the stream and the strategies (which check their own values) and checks the
rest of the config. :class:`PreflightCallback` runs it when a single run starts, before Hydra creates
the run's output directory, so a bad value leaves nothing behind and touches nothing that was there.
"""

from __future__ import annotations

import copy
import sys

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict, read_write

from harness.checks import build_checked
from harness.errors import ConfigError
from harness.monitor import check_monitor


def preflight(cfg: DictConfig) -> tuple:
    """``(stream, strategies)`` built from ``cfg`` after every check; raises ConfigError."""
    stream, strategies = build_checked(cfg)
    check_monitor(cfg, stream.n_deploy)
    return stream, strategies


def task_config(config: DictConfig) -> DictConfig:
    """The job's config as the task function sees it: Hydra's own node removed."""
    task = copy.deepcopy(config)
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    return task


class PreflightCallback(Callback):
    """Refuse a bad single run (``error: ...``, exit code 2) before its output directory exists."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        try:
            preflight(task_config(config))
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
