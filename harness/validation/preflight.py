"""Every check made before anything is computed or created.

:func:`preflight` builds the stream and the strategies (which check their own values) and checks the
rest of the config. :class:`PreflightCallback` runs it when a single run starts, before Hydra creates
the run's output directory, so a bad value leaves nothing behind and touches nothing that was there.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from harness.results.ownership import check_owned
from harness.streams.families import CUSTOM, stream_class, target_of
from harness.validation import validate
from harness.validation.errors import ConfigError, RunDirectoryError
from harness.validation.settings import check_arguments


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


RAY_INSTALL = "pip install -e '.[ray]'"


SWEEP_CALLBACK = "harness.pipeline.sweep.SweepCallback"


def check_sweep_options(hydra: DictConfig) -> None:
    """The sweep callback's options (``hydra.callbacks.sweep.*``, from a preset or the command line)
    against its signature and the rules of :mod:`harness.validation.settings`: a misspelt figure is
    refused before the sweep starts, not when its last job has run."""
    node = OmegaConf.select(hydra, "callbacks.sweep", default=None)
    if node is None or node.get("_target_") != SWEEP_CALLBACK:  # a callback of the user's own
        return
    from harness.pipeline.sweep import SweepCallback

    try:
        options = OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException as error:  # ${...} that does not resolve
        key = str(error.full_key).rpartition("callbacks.sweep.")[2]
        raise ConfigError(f"hydra.callbacks.sweep.{key}: {str(error.msg).splitlines()[0]}") from None
    check_arguments(options, SweepCallback.__init__, "hydra.callbacks.sweep")
    if options["update_reference"]:  # written only then: a sweep run from a read-only folder needs no such place
        default = inspect.signature(SweepCallback).parameters["reference_dir"].default
        validate.writable_directory("hydra.callbacks.sweep.reference_dir", options.get("reference_dir", default))


def check_preset_values(hydra: DictConfig) -> None:
    """The values a preset sweeps (``hydra.sweeper.params``) get the command line's checks
    (:func:`harness.validation.command_line.check_overrides`), so that every swept value is checked
    before the first job wherever it was written; a key the command line sets is the command line's."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from harness.validation.command_line import check_overrides

    parser = OverridesParser.create()
    given = {parser.parse_override(text).key_or_group.lstrip("+~") for text in hydra.overrides.task}
    params = hydra.sweeper.get("params") or {}
    try:
        check_overrides([f"{key}={value}" for key, value in params.items() if key not in given])
    except ConfigError as error:
        raise ConfigError(f"{error} (swept by hydra.sweeper.params)") from None


def check_launcher(hydra: DictConfig) -> None:
    """A launcher a sweep can use as configured, checked before the sweep creates anything."""
    check_plugin(hydra)
    check_cluster_sweep(hydra)


def check_plugin(hydra: DictConfig) -> None:
    """The launcher's plugin is installed: ``hydra/launcher=ray_cluster`` needs the ``ray`` extra, which
    CI's environment lacks (Hydra would fail only after the sweep had made its directory)."""
    target = str(OmegaConf.select(hydra, "launcher._target_", default="") or "")
    plugin = ".".join(target.split(".")[:2])
    if plugin.startswith("hydra_plugins.") and importlib.util.find_spec(plugin) is None:
        extra = f": {RAY_INSTALL}" if "ray" in plugin else ""
        raise ConfigError(f"hydra.launcher._target_={target} cannot be imported: "
                          f"its plugin is not installed{extra}")


def check_cluster_sweep(hydra: DictConfig) -> None:
    """For jobs on a Ray cluster (``hydra.launcher.ray.init.address`` set): ``ray_cluster``'s ``init``
    keys, since ``ray.init`` refuses the plugin's own default ``object_store_memory`` when it joins a
    cluster; and an absolute ``hydra.sweep.dir``, since each job writes where its worker stands, in
    the cluster's working directory, while the closing count and report read this machine's."""
    address = OmegaConf.select(hydra, "launcher.ray.init.address", default=None)
    if not address:
        return
    if "object_store_memory" not in hydra.launcher.ray.init:
        raise ConfigError(f"hydra.launcher.ray.init.address={address} needs hydra/launcher=ray_cluster (the "
                          "plugin's own ray config sets an object_store_memory that ray.init refuses on a cluster)")
    if not Path(hydra.sweep.dir).is_absolute():
        raise ConfigError(f"hydra.sweep.dir={hydra.sweep.dir} is relative: with hydra.launcher.ray.init.address="
                          f"{address} the jobs write in the cluster's working directory; give an absolute path "
                          "on a filesystem that this machine and every node share")


class PreflightCallback(Callback):
    """Refuse a bad single run (``error: ...``, exit code 2) before its output directory exists, and a
    sweep whose stream class is bad for every job, or whose launcher cannot run it, before any job
    starts; either when its directory is the user's (:func:`harness.results.ownership.check_owned`),
    before Hydra creates anything in it."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        task = task_config(config)
        try:
            validate.writable_directory("hydra.run.dir", config.hydra.run.dir)
            check_sweep_options(config.hydra)
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
            check_launcher(config.hydra)
            check_sweep_options(config.hydra)
            check_preset_values(config.hydra)
            sweep_dir = config.hydra.sweep.dir
            validate.writable_directory("hydra.sweep.dir", sweep_dir)
            check_owned(Path(sweep_dir), f"hydra.sweep.dir={sweep_dir}", owner="sweep's", sweep=True)
            if stream.get("family") != CUSTOM or target_of(stream) is not None:
                stream_class(stream)
        except (ConfigError, RunDirectoryError) as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
