"""Every check made before anything is computed or created.

:func:`preflight` builds the stream and the strategies (which check their own values) and checks the
rest of the config. :class:`PreflightCallback` runs it when a single run starts, before Hydra creates
the run's output directory, so a bad value leaves nothing behind and touches nothing that was there.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from harness.results.ownership import check_owned
from harness.streams.families import CUSTOM, stream_class, target_of
from harness.validation import validate
from harness.validation.errors import ConfigError, RunDirectoryError


def preflight(cfg: DictConfig) -> tuple:
    """``(stream, strategies)`` built from ``cfg`` after every check; raises ConfigError.

    A single run is checked by :class:`PreflightCallback` before its task starts: what the callback
    built for the same config is handed over once, untouched, instead of being built again."""
    from harness.monitor.pipeline import check_monitor  # torch and scipy: not for a sweep's parent process
    from harness.validation.checks import build_checked

    built = _checked.pop("built", None)
    if built is not None and built[0] == OmegaConf.to_yaml(cfg):
        return built[1]
    stream, strategies = build_checked(cfg)
    check_monitor(cfg, stream.n_deploy)
    return stream, strategies


_checked: dict = {}  # "built": (the config as YAML, (stream, strategies)) the callback left for the run


def task_config(config: DictConfig) -> DictConfig:
    """The job's config as the task function sees it: Hydra's own node removed."""
    task = copy.deepcopy(config)
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    return task


class PreflightCallback(Callback):
    """Refuse a bad single run (``error: ...``, exit code 2) before its output directory exists, and a
    sweep whose stream class is bad for every job before any job starts; either when its directory
    is the user's (:func:`harness.results.ownership.check_owned`), before Hydra creates anything in it."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        task = task_config(config)
        try:
            validate.writable_directory("hydra.run.dir", config.hydra.run.dir)
            _checked["built"] = (OmegaConf.to_yaml(task), preflight(task))
            run_dir = config.hydra.run.dir  # ${now:...} is cached: the directory Hydra then makes
            check_owned(Path(run_dir), f"hydra.run.dir={run_dir}")
        except (ConfigError, RunDirectoryError) as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """The stream class every job shares (``stream.family``, or ``stream._target_`` when it is not
        swept) is checked once here: resolving a job's config needs it (``${stream_default:...}``), so a
        bad one would otherwise reach each job as an interpolation error. A swept target is left to
        each job (:func:`harness.run.main` checks it before resolving)."""
        stream = task_config(config).stream
        try:
            sweep_dir = config.hydra.sweep.dir
            validate.writable_directory("hydra.sweep.dir", sweep_dir)
            check_owned(Path(sweep_dir), f"hydra.sweep.dir={sweep_dir}", owner="sweep's", sweep=True)
            if stream.get("family") != CUSTOM or target_of(stream) is not None:
                stream_class(stream)
        except (ConfigError, RunDirectoryError) as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
