"""The command line of one experiment: ``python -m harness.run [overrides]`` (or the ``drift-harness``
command), a thin Hydra entry that plans each job (skip, refuse, run) and records how it ended.

The experiment itself, :func:`harness.pipeline.experiment.run`, is imported once a job runs, so that
``--help`` and shell completion start without torch, River or pandas; ``from harness.run import run``
still gives it (tests call it directly with a composed config and an output directory). From Python,
``harness.run_experiment`` (harness/pipeline/api.py) runs a config as the command line does.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import datetime, timezone
from importlib import import_module
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from harness.pipeline.sweep import record_outcome, task_overrides
from harness.results.ownership import check_owned
from harness.results.store import RESULT, atomic_write, job_lock, run_state, write_json
from harness.streams.families import stream_class
from harness.validation import config
from harness.validation.argv import runs_a_job
from harness.validation.errors import ConfigError, RunDirectoryError

# Only what Hydra needs to parse the command line is imported above (no torch, River, pandas, scipy):
# `--help` and shell completion answer from it; the experiment's modules load once a job runs.
log = logging.getLogger("harness")
FAILED_STRATEGY_EXIT = 1  # a single run in which a strategy failed: its results stand, the exit code says so
EXPERIMENT = ("run", "StrategiesFailed", "seed_everything", "offline_settings", "versions", "format_headline")
config.register()


def __getattr__(name: str):
    """``from harness.run import run`` (and the other names of :data:`EXPERIMENT`) as before: they
    live in ``harness/pipeline/experiment.py``, imported on first use."""
    if name not in EXPERIMENT:
        raise AttributeError(f"module 'harness.run' has no attribute {name!r}")
    return getattr(import_module("harness.pipeline.experiment"), name)


@hydra.main(version_base="1.3", config_path=str(config.CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> str:
    """Run one job. A finished job of the same config is skipped; a finished job of another config
    is refused (``rerun=true`` redoes it); a job another process is running is left to it; a failing
    job is recorded as failed (``result.json`` with the error) while the others of a sweep go on."""
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
        except ConfigError as error:
            return fail(output_dir, error, single)
        action, message = plan_job(cfg, output_dir)
        if action == "refuse":
            return refuse(output_dir, "refused", message, single)
        if action == "skip":
            log.info("skipped: %s", message)
            record_outcome(output_dir, "skipped")
            return "skipped"
        if message:
            log.warning("redoing %s: %s", output_dir, message)
        return run_job(cfg, output_dir, single)


def plan_job(cfg: DictConfig, output_dir: Path) -> tuple[str, str]:
    """What to do with ``output_dir`` (held under its lock) for ``cfg``, and why: ``("refuse", why)``
    when it holds a finished run of another config (unless ``rerun``), ``("skip", why)`` when it holds
    a finished run of this config (unless ``rerun``, or ``save_stream`` asks for data it lacks),
    ``("run", why)`` otherwise, ``why`` saying what is redone when the run there is corrupt."""
    state = run_state(output_dir, OmegaConf.to_container(cfg, resolve=True))
    if state.state == "conflict" and not cfg.rerun:
        return "refuse", f"{state.message}; choose another directory, or rerun=true to replace it"
    stream_wanted = cfg.save_stream and not (output_dir / "stream_deploy.parquet").is_file()
    if state.state == "ok" and not cfg.rerun and not stream_wanted:
        return "skip", f"{output_dir} is finished (rerun=true forces)"
    return "run", state.message if state.state == "corrupt" else ""


def run_job(cfg: DictConfig, output_dir: Path, single: bool) -> str:
    """Run the job into ``output_dir`` and tell the sweep how it ended; a failure is recorded in
    ``result.json``, and a single run exits 2 on a bad config."""
    from harness.pipeline.experiment import StrategiesFailed, format_headline, run

    write_hydra_record(output_dir, cfg)
    try:
        outcome = run(cfg, output_dir)
    except ConfigError as error:
        return fail(output_dir, error, single, cfg)
    except StrategiesFailed as error:  # recorded and said, without a traceback: no bug of the harness
        write_failure(output_dir, error, cfg)
        record_outcome(output_dir, "failed", str(error))
        print(f"error: {error}", file=sys.stderr)
        if single:
            sys.exit(FAILED_STRATEGY_EXIT)
        return "failed"
    except Exception as error:
        write_failure(output_dir, error, cfg)
        record_outcome(output_dir, "failed", f"{type(error).__name__}: {error}")
        if single:
            raise
        log.error("failed: %s: %s: %s", output_dir, type(error).__name__, error)
        return "failed"
    failures = outcome.result["failed_strategies"]
    record_outcome(output_dir, "failed" if failures else "done", "; ".join(failures.values()))
    if single and not cfg.quiet:
        print(format_headline(outcome.result))
    if single:
        print(f"results: {output_dir}  ({outcome.result['wall_time_s']:.1f} s)")
    for message in failures.values():
        print(f"error: {message}", file=sys.stderr)
    if failures and single:
        sys.exit(FAILED_STRATEGY_EXIT)
    return "failed" if failures else "done"


def fail(output_dir: Path, error: ConfigError, single: bool, cfg: DictConfig | None = None) -> str:
    """Record a job refused for a bad config as failed and say why; a single run exits with code 2.
    Without ``cfg`` (it could not be resolved) a finished run already in ``output_dir`` is kept."""
    if cfg is not None or not (output_dir / RESULT).is_file():
        write_failure(output_dir, error, cfg)
    record_outcome(output_dir, "failed", str(error))
    print(f"error: {error}", file=sys.stderr)
    if single:
        sys.exit(2)
    return "failed"


def refuse(output_dir: Path, state: str, message: str, single: bool) -> str:
    """Leave ``output_dir`` as it is and say why; a single run exits with code 2."""
    record_outcome(output_dir, state, message)
    print(f"error: {message}", file=sys.stderr)
    if single:
        sys.exit(2)
    return state


def write_hydra_record(output_dir: Path, cfg: DictConfig) -> None:
    """``.hydra/``: the job's config, Hydra's config and the overrides, as Hydra itself writes them.
    Written here, once the job is known to run, rather than by Hydra (``hydra.output_subdir: null``),
    so that a skipped or refused job leaves the record of the run in its directory untouched."""
    record = output_dir / ".hydra"
    record.mkdir(parents=True, exist_ok=True)
    hydra_cfg = HydraConfig.instance().cfg
    for name, node in (("config.yaml", cfg), ("hydra.yaml", hydra_cfg),
                       ("overrides.yaml", hydra_cfg.hydra.overrides.task)):
        atomic_write(record / name, lambda tmp, node=node: OmegaConf.save(node, tmp))


def write_failure(output_dir: Path, error: BaseException, cfg: DictConfig | None = None) -> None:
    """``result.json`` of a failed job: what failed and where, so the sweep can go on and say so."""
    output_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        output_dir / RESULT,
        {
            "status": "failed",
            "error_type": type(error).__name__,
            "message": str(error),
            "traceback": traceback.format_exc(),
            "overrides": task_overrides(),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": OmegaConf.to_container(cfg, resolve=True) if cfg is not None else None,
        },
    )


def cli() -> None:
    """``python -m harness.run`` and the ``drift-harness`` command: the command-line checks Hydra does
    not make (exit code 2 before any directory exists), then the Hydra app."""
    if runs_a_job(sys.argv[1:]):  # --help and completion need no check (and not its imports)
        from harness.validation.checks import check_command_line

        check_command_line(sys.argv[1:])
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: a run directory without result.json is unfinished; the same command runs it "
              "again and skips the finished ones", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    cli()
