"""One experiment from the command line: ``python -m harness.run [overrides]`` (or the
``drift-harness`` command) is this thin Hydra entry over :func:`harness.pipeline.experiment.run`
(importable as ``harness.run.run``), which tests call directly with a composed config and an output
directory; from Python, ``harness.run_experiment`` (harness/pipeline/api.py) runs a config as the
command line does. The job's rules live in :mod:`harness.pipeline.jobs`.

Only what Hydra needs to parse the command line is imported with this module (no torch, River,
pandas or scipy): ``--help`` and shell completion answer from it, and the experiment's modules load
once a job runs.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from harness import lazy_names, skip_final_collection
from harness.validation import config
from harness.validation.argv import completion_problem, flag_problem, runs_a_job

__all__ = ["cli", "main", "run"]
log = logging.getLogger("harness")
config.register()
# ``from harness.run import run``: the experiment, imported on first use
__getattr__, __dir__ = lazy_names(__name__, {"run": "harness.pipeline.experiment"})


@hydra.main(version_base="1.3", config_path=str(config.CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> str:
    """Run one job. A finished job of the same config is skipped; a finished job of another config
    is refused (``rerun=true`` redoes it); a job another process is running is left to it; a failing
    job is recorded as failed (``result.json`` with the error) while the others of a sweep go on."""
    # Here, not at import: this body runs in every process that runs a job (the command line's, and
    # the workers of joblib, submitit and Ray, which receive this function by value).
    skip_final_collection()
    from harness.pipeline.jobs import fail, plan_job, refuse, run_job
    from harness.pipeline.sweep import record_outcome
    from harness.results.ownership import check_owned
    from harness.results.store import job_lock
    from harness.streams.families import stream_class
    from harness.validation.errors import ConfigError, RunDirectoryError

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    single = HydraConfig.get().mode == RunMode.RUN
    if cfg.quiet:
        log.setLevel(logging.WARNING)
    if not single:  # a single run's directory was checked before Hydra made it (PreflightCallback)
        try:
            check_owned(output_dir, str(output_dir), ours=[f"{HydraConfig.get().job.name}.log"])
        except RunDirectoryError as error:
            return refuse(output_dir, "refused", str(error), single)
    with job_lock(output_dir) as locked:
        if not locked:
            return refuse(output_dir, "busy", f"{output_dir} is being run by another process", single)
        try:
            stream_class(cfg.stream)  # before the config is resolved: ${stream_default:...} needs the class
            action, message = plan_job(cfg, output_dir)
        except ConfigError as error:
            return fail(output_dir, error, single)
        if action == "refuse":
            return refuse(output_dir, "refused", message, single)
        if action == "skip":
            log.info("skipped: %s", message)
            record_outcome(output_dir, "skipped")
            return "skipped"
        if message:
            log.warning("redoing %s: %s", output_dir, message)
        return run_job(cfg, output_dir, single)


def cli() -> None:
    """``python -m harness.run`` and the ``drift-harness`` command: the command-line checks Hydra does
    not make (exit code 2 before any directory exists), then the Hydra app."""
    argv = sys.argv[1:]
    if problem := flag_problem(argv) or completion_problem(argv):  # Hydra's answer: a traceback
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    runs = runs_a_job(argv)
    if runs:  # --help and completion need no check (and not its imports)
        from harness.validation.command_line import check_command_line

        check_command_line(argv)
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: a run directory without result.json is unfinished; the same command runs it "
              "again and skips the finished ones", file=sys.stderr)
        sys.exit(130)
    except Exception as error:
        # Hydra composes for --help and --hydra-help outside the error report it gives a run: the same
        # message a run prints for a bad override, without the traceback (HYDRA_FULL_ERROR=1 keeps it)
        if runs or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    cli()
