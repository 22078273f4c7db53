"""The harness from Python: compose a config, run it into a directory, read a finished run back.

``harness.compose``, ``harness.run_experiment`` and ``harness.load_run`` (harness/results/store.py) do what
``python -m harness.run`` does, with the same checks and the same rules for a directory that already
holds a run, so that a notebook and the command line can share one results tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness.pipeline.experiment import run
from harness.pipeline.jobs import plan_job, write_config_record
from harness.pipeline.record import write_failure
from harness.results.ownership import check_owned
from harness.results.store import RunResult, job_lock, load_run
from harness.validation import config
from harness.validation.checks import check_config
from harness.validation.command_line import check_overrides
from harness.validation.errors import RunDirectoryError
from harness.validation.preflight import preflight


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The config that ``python -m harness.run *overrides`` runs.

    ``conf/config.yaml`` with the overrides applied, typed by the schemas (a misspelled key or a
    wrong type raises Hydra's ``ConfigCompositionException``, an override its grammar cannot parse its
    ``OverrideParseException``) and through the command line's own checks (``ConfigError``).

    Parameters
    ----------
    overrides : sequence of str
        Hydra overrides as on the command line (``["drift.kind=covariate", "strategy=[frozen]"]``);
        a single string is refused (``TypeError``).

    Returns
    -------
    DictConfig
        The composed config, plain (see :func:`editable`) and in struct mode: an edit is kept as
        written and checked by :func:`run_experiment`, a new key is refused.

    Examples
    --------
    >>> import harness
    >>> cfg = harness.compose(["drift.kind=covariate", "drift.severity=0.5"])
    >>> cfg.drift.kind, cfg.drift.severity, cfg.stream.family
    ('covariate', 0.5, 'teacher')
    >>> harness.compose(["drift.severity=-1"])
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: drift.severity=-1 is outside [0, 1]
    """
    if isinstance(overrides, str):
        raise TypeError(f"overrides={overrides!r} is a string; give a list such as ['drift.severity=0.5']")
    if not isinstance(overrides, Iterable):
        raise TypeError(f"overrides={overrides!r} is no list; give a list such as ['drift.severity=0.5']")
    overrides = list(overrides)
    for i, override in enumerate(overrides):
        if not isinstance(override, str):
            raise TypeError(f"overrides[{i}]={override!r} is a {type(override).__name__}; each override is a string "
                            "such as 'drift.severity=0.5'")
    check_overrides(overrides)
    composed = config.compose_config(overrides)
    check_config(composed)
    return editable(composed)


def editable(cfg: DictConfig) -> DictConfig:
    """``cfg`` as a plain config that keeps what it is given: OmegaConf's typed nodes turn
    ``cfg.quiet = "yes"`` or ``2`` into ``True`` without a word, so the typed schema is left behind
    and every edit reaches :func:`harness.validation.checks.check_config` as written (run_experiment refuses a
    bad one with the command line's message). Struct mode still refuses a new key."""
    plain = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    OmegaConf.set_struct(plain, True)
    return plain


def run_experiment(cfg: DictConfig, output_dir: Path | str) -> RunResult:
    """Run ``cfg`` (from :func:`compose`) into ``output_dir`` and return its tables.

    As the command line: every value is checked before anything is created (``ConfigError``); a
    directory holding a finished run of the same config is not run again, its run is returned
    (``rerun=true`` redoes it); unfinished, failed and corrupt runs are redone; a failure is recorded
    in ``result.json`` and raised. Refused with ``RunDirectoryError``, the directory left untouched:
    a finished run of another config (unless ``rerun=true``), a directory another process is running,
    and a directory holding files that are no run's (it must be new, empty, or a run's).

    Parameters
    ----------
    cfg : DictConfig
        A config from :func:`compose` (edited or not).
    output_dir : path-like
        The run directory: new, empty, or holding a run (see above).

    Returns
    -------
    RunResult
        The finished run as :func:`harness.load_run` reads it: ``.summary``, ``.windows``,
        ``.costs``, ``.result``, ``.predictions`` and ``.table(name)``.

    Examples
    --------
    A run of a few hundred samples (about a second once torch and River are imported):

    >>> import tempfile, harness
    >>> cfg = harness.compose(["strategy=[frozen,river_gnb]", "stream.n_offline=200", "stream.n_deploy=300",
    ...                        "drift.onset=150", "metrics.window=50", "offline.n_trials=1", "offline.max_epochs=2",
    ...                        "offline.cache=false", "monitor=off", "figures=false", "quiet=true"])
    >>> run = harness.run_experiment(cfg, tempfile.mkdtemp() + "/run")
    >>> run.result["status"], run.summary.query("phase == 'post'")[["strategy", "family", "n"]].values.tolist()
    ('ok', [['frozen', 'static', 150], ['river_gnb', 'river', 150]])
    """
    if not isinstance(cfg, DictConfig):
        raise TypeError(f"cfg is a {type(cfg).__name__}; build it with harness.compose([...])")
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(f"output_dir={output_dir!r} is no path; give the run directory as a str or a Path")
    output_dir = Path(output_dir)
    preflight(cfg)
    check_run_directory(output_dir)
    with job_lock(output_dir) as locked:
        if not locked:
            raise RunDirectoryError(f"{output_dir} is being run by another process")
        action, message = plan_job(cfg, output_dir)
        if action == "refuse":
            raise RunDirectoryError(message)
        if action == "run":
            write_config_record(output_dir, cfg)
            try:
                run(cfg, output_dir)
            except Exception as error:
                write_failure(output_dir, error, cfg)
                raise
    return load_run(output_dir)


def check_run_directory(output_dir: Path) -> None:
    """``output_dir`` may take a run: it does not exist, is empty, or holds a run (its config record
    or its ``result.json``), so that a run never writes over files it did not make
    (:func:`harness.results.ownership.check_owned`)."""
    check_owned(output_dir, str(output_dir))
