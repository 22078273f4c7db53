"""A job of the command line or of ``run_experiment``: what to do with its directory (run, skip,
refuse), running it, recording how it ended (``result.json`` of a failure, the sweep's outcome),
its ``.hydra`` record and the table printed at its end."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from harness.pipeline.experiment import StrategiesFailed, run
from harness.pipeline.record import write_failure
from harness.pipeline.sweep import record_outcome
from harness.results.store import CONFIG_RECORD, RESULT, atomic_write, run_state
from harness.validation.checks import resolved
from harness.validation.errors import ConfigError

log = logging.getLogger("harness")
FAILED_STRATEGY_EXIT = 1  # a single run in which a strategy failed: its results stand, the exit code says so
HEADLINE = {"accuracy_pre": "acc pre", "accuracy_post": "acc post", "drift_induced_error": "drift-induced err",
            "confident_error_rate_post": "conf. err post", "accuracy_all": "acc all",
            "confident_error_rate_all": "conf. err all", "samples_per_s": "samples/s"}


def plan_job(cfg: DictConfig, output_dir: Path) -> tuple[str, str]:
    """What to do with ``output_dir`` (held under its lock) for ``cfg``, and why: ``("refuse", why)``
    when it holds a finished run of another config (unless ``rerun``), ``("skip", why)`` when it holds
    a finished run of this config (unless ``rerun``, or ``save_stream`` asks for data it lacks),
    ``("run", why)`` otherwise, ``why`` saying what is redone when the run there is corrupt; ConfigError
    when the config does not resolve."""
    state = run_state(output_dir, resolved(cfg))
    if state.state == "conflict" and not cfg.rerun:
        return "refuse", f"{state.message}; choose another directory, or rerun=true to replace it"
    stream_wanted = cfg.save_stream and not (output_dir / "stream_deploy.parquet").is_file()
    if state.state == "ok" and not cfg.rerun and not stream_wanted:
        return "skip", f"{output_dir} is finished (rerun=true forces)"
    return "run", state.message if state.state == "corrupt" else ""


def run_job(cfg: DictConfig, output_dir: Path, single: bool) -> str:
    """Run the job into ``output_dir`` and tell the sweep how it ended; a failure is recorded in
    ``result.json``, and a single run exits 2 on a bad config."""
    write_config_record(output_dir, cfg, HydraConfig.instance().cfg)
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


def write_config_record(output_dir: Path, cfg: DictConfig, hydra_cfg: DictConfig | None = None) -> None:
    """``.hydra/``: the job's config and, for a job Hydra runs (``hydra_cfg``), Hydra's config and the
    overrides, as Hydra itself writes them. Written once the job is known to run, rather than by Hydra
    (``hydra.output_subdir: null``), so that a skipped or refused job leaves the record of the run in
    its directory untouched."""
    record = output_dir / CONFIG_RECORD
    record.mkdir(parents=True, exist_ok=True)
    nodes = {"config.yaml": cfg}
    if hydra_cfg is not None:
        nodes.update({"hydra.yaml": hydra_cfg, "overrides.yaml": hydra_cfg.hydra.overrides.task})
    for name, node in nodes.items():
        atomic_write(record / name, lambda tmp, node=node: OmegaConf.save(node, tmp))


def format_headline(result: dict) -> str:
    """The short per-strategy table printed at the end of a run (whole-stream columns when the drift
    is unknown)."""
    rows = [
        {"strategy": name, **{label: values[key] for key, label in HEADLINE.items() if key in values}}
        for name, values in result["strategies"].items()
    ]
    return pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}")
