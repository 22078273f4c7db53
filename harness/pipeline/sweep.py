"""Sweep-level feedback as a Hydra callback: a progress bar, the closing count, the aggregated tables.

Each job tells the sweep that launched it how it ended (done, skipped, failed, refused, busy) by
writing one small file into the sweep's ledger, a directory whose path reaches the jobs through the
environment; launchers (basic, joblib, submitit, SLURM; Ray through its ``runtime_env``) pass it on,
so the count is exact whatever runs the jobs and whatever other processes write into the same sweep
directory.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from harness.pipeline.progress import interactive, say
from harness.results.records import LEDGER_PREFIX, read_ledger_entry
from harness.results.store import run_state, wait_for_lock, write_json
from hydra_plugins.harness_grid_sweeper.grid_sweeper import grid_values

LEDGER_ENV = "HARNESS_SWEEP_LEDGER"
MAX_JOB_DIR_BYTES = 200  # under the 255 bytes most file systems allow per name


def job_dir_name(override_dirname: str) -> str:
    """A job directory's name from Hydra's ``override_dirname``: ``/`` (and ``%``) percent-encoded,
    so that no override value can make a path that leaves the sweep directory, and at most
    ``MAX_JOB_DIR_BYTES`` bytes: a longer name keeps as many whole overrides as fit, then a hash of all.

    >>> job_dir_name("+tag=../../x,seed=1")
    '+tag=..%2F..%2Fx,seed=1'
    >>> name = job_dir_name(",".join(f"key{i}=value{i}" for i in range(40)))
    >>> len(name.encode()) <= MAX_JOB_DIR_BYTES, name[:24], name[-30:-10]
    (True, 'key0=value0,key1=value1,', 'key13=value13,~hash-')
    """
    name = override_dirname.replace("%", "%25").replace("/", "%2F")
    if len(name.encode()) <= MAX_JOB_DIR_BYTES:
        return name
    digest = hashlib.sha256(override_dirname.encode()).hexdigest()[:10]
    suffix = f",~hash-{digest}"
    head = name.encode()[: MAX_JOB_DIR_BYTES - len(suffix) + 1].decode(errors="ignore")
    return head[: head.rfind(",")] + suffix if "," in head else head[:-1] + suffix


# conf/config.yaml names sweep jobs with ${job_dir:...}; registered on import, so that any process that
# runs a job (joblib and submitit workers included) has it.
if not OmegaConf.has_resolver("job_dir"):
    OmegaConf.register_new_resolver("job_dir", job_dir_name)


def ledger_env() -> dict[str, str]:
    """The sweep's ledger variable as a mapping (empty outside a sweep), for launchers whose workers do
    not inherit the sweep's environment: ``conf/hydra/launcher/ray_cluster.yaml`` hands it to Ray's
    ``runtime_env.env_vars``, which a cluster's workers (started by their node, not by this process) need.
    Resolved when the launcher starts, after ``SweepCallback.on_multirun_start`` has set the variable."""
    ledger = os.environ.get(LEDGER_ENV)
    return {LEDGER_ENV: ledger} if ledger else {}


if not OmegaConf.has_resolver("sweep_env"):
    OmegaConf.register_new_resolver("sweep_env", ledger_env)


def task_overrides() -> list[str]:
    """The job's overrides as Hydra passed them (none outside a Hydra job): recorded in ``result.json``."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def record_outcome(job_dir: Path, state: str, message: str = "") -> None:
    """Tell the sweep that launched this job how it ended; nothing outside a sweep of this harness."""
    ledger = os.environ.get(LEDGER_ENV)
    if not ledger or not Path(ledger).is_dir():
        return
    name = hashlib.sha256(str(Path(job_dir).resolve()).encode()).hexdigest()[:20]
    write_json(Path(ledger) / f"{name}.json", {"job_dir": str(job_dir), "state": state, "message": message})


def read_ledger(ledger: Path) -> list[dict]:
    """The outcomes the jobs have recorded so far, each read by :func:`harness.results.records.read_ledger_entry`."""
    return [read_ledger_entry(path) for path in sorted(Path(ledger).glob("*.json")) if not path.name.startswith(".")]


def count_jobs(config: DictConfig) -> int | None:
    """Jobs the grid sweeper will launch: the product of the sizes of the sweep's value lists
    (command-line values replace a preset's for the same key); None if a sweep cannot be counted."""
    params = config.hydra.sweeper.get("params") or {}
    overrides = [f"{key}={value}" for key, value in params.items()] + list(config.hydra.overrides.task)
    parsed = OverridesParser.create().parse_overrides(overrides)
    try:
        values = grid_values(parsed)
    except Exception:  # e.g. glob() needs the config's options to expand; an interval sweep is no grid
        return None
    return math.prod(len(options) for options in values)


def shrink(source: Path, target: Path, *, max_width: int = 900) -> Path:
    """A web-sized copy of a figure (palette PNG), small enough to commit."""
    from PIL import Image

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.thumbnail((max_width, max_width * 4))
        image.convert("RGB").quantize(colors=256).save(target, optimize=True)
    return target


def discard_ledger(ledger: Path, made_sweep_dir: Path | None = None) -> None:
    """Remove a sweep's ledger and, when given, the sweep directory this invocation made, if empty."""
    shutil.rmtree(ledger, ignore_errors=True)
    if made_sweep_dir is not None:
        with contextlib.suppress(OSError):  # not empty: jobs ran
            made_sweep_dir.rmdir()


def start_report(sweep_dir: Path, ledger: Path, figures: list[str] | None) -> subprocess.Popen | None:
    """The process that prepares the closing report while the jobs run (:mod:`harness.results.follow`),
    or None where this process writes it at the end: off POSIX (the process waits on a pipe with
    ``select``), or when it cannot be started."""
    if os.name != "posix":
        return None
    command = [sys.executable, "-m", "harness.results.follow", str(sweep_dir), str(ledger), json.dumps(figures)]
    try:
        return subprocess.Popen(command, stdin=subprocess.PIPE, text=True)
    except OSError:
        return None


def finish_report(process: subprocess.Popen, write: bool) -> None:
    """Tell the closing report's process to write the report (``write``) or to end, and wait for it."""
    try:
        process.communicate("close\n" if write else "quit\n")
    except BaseException:
        process.kill()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"the report's process ended with exit code {process.returncode}")


class SweepCallback(Callback):
    """At the end of a multirun: count the jobs, aggregate them with ``harness.results.report`` (drawing
    ``figures``, default all that the data supports) and, only when ``update_reference`` is true,
    copy the ``reference`` figures, shrunk, to ``reference_dir/<sweep name>/`` (the small figures
    the documentation embeds). Exits 1 when a job failed, was refused or did not finish, and when
    the aggregation itself fails."""

    def __init__(
        self,
        *,
        update_reference: bool,
        report: bool = True,
        progress: bool = True,
        poll_s: float = 1.0,
        figures: list[str] | None = None,
        reference: list[str] | None = None,
        reference_dir: str = "results/reference",
        **unknown,
    ):
        # Kept as given: harness.validation.preflight checks these options against this signature before
        # anything starts (an unknown key or a bad value failing here would reach the user as Hydra's bare
        # TypeError), and a refused sweep never gets as far as using them.
        self.report = report
        self.progress = progress
        self.poll_s = poll_s
        self.figures = figures
        self.reference = reference
        self.reference_dir = reference_dir
        self.update_reference = update_reference
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._report: subprocess.Popen | None = None

    def __getstate__(self) -> dict:
        # Launchers such as joblib pickle the callbacks along with each job; the thread and process stay home.
        return {k: v for k, v in self.__dict__.items() if k not in ("_stop", "_thread", "_report")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _stop=threading.Event(), _thread=None, _report=None)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self.sweep_dir = Path(config.hydra.sweep.dir)
        self.total = count_jobs(config)
        self.ledger = self.sweep_dir / f"{LEDGER_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        made_sweep_dir = not self.sweep_dir.exists()
        self.ledger.mkdir(parents=True)
        os.environ[LEDGER_ENV] = str(self.ledger.resolve())
        # A sweep that ends before its closing step (refused by the sweeper, interrupted) leaves no ledger,
        # nor the sweep directory when this invocation made it and nothing else is in it.
        atexit.register(discard_ledger, self.ledger, self.sweep_dir if made_sweep_dir else None)
        if self.progress and not config.get("quiet", False):
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        if self.report:
            self._report = start_report(self.sweep_dir, self.ledger, self._figures())

    def _watch(self) -> None:
        # a bar only on a terminal; in a file, a line each time the count of finished jobs moves
        bar = tqdm(total=self.total, unit="job", desc="sweep", position=0, dynamic_ncols=True) if interactive() else None
        shown = 0
        while True:
            stopping = self._stop.wait(self.poll_s)
            states = Counter(entry["state"] for entry in read_ledger(self.ledger))
            finished = sum(states.values())
            if bar is not None:
                bar.n = finished
                bar.set_postfix(failed=states["failed"], skipped=states["skipped"], refresh=not stopping)
            elif finished != shown:
                say(f"sweep: {finished}/{self.total} jobs finished ({states['failed']} failed, {states['skipped']} skipped)")
                shown = finished
            if stopping:
                break
        if bar is not None:
            bar.close()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        # Hydra turns a callback's exception into a warning and exits 0: end with a clear error instead.
        try:
            failing = self._finish()
        except Exception as error:
            print(f"error: the sweep's closing step failed: {type(error).__name__}: {error}", file=sys.stderr)
            sys.exit(1)
        if failing:
            sys.exit(1)  # a SystemExit is not swallowed by Hydra's callback wrapper

    def _figures(self) -> list[str] | None:
        return None if self.figures is None else list(self.figures)

    def _finish(self) -> bool:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        entries = read_ledger(self.ledger)
        states = Counter()
        problems = []
        for entry in entries:
            state = entry["state"]
            if state == "busy":  # another process is running it: wait, then see how it ended
                wait_for_lock(Path(entry["job_dir"]))
                other = run_state(Path(entry["job_dir"])).state
                state = {"ok": "elsewhere", "missing": "unfinished"}.get(other, "failed")
            states[state] += 1
            if state in ("failed", "refused", "unfinished"):
                problems.append(f"  {state}: {entry['job_dir']}" + (f": {entry['message']}" if entry["message"] else ""))
        if self.total is not None and len(entries) < self.total:
            states["unfinished"] += self.total - len(entries)
        parts = [f"{states['done']} done", f"{states['skipped']} skipped", f"{states['failed']} failed"]
        parts += [f"{states[k]} {label}" for k, label in
                  (("refused", "refused"), ("elsewhere", "done by another process"), ("unfinished", "unfinished"))
                  if states[k]]
        print(f"sweep: {', '.join(parts)} -> {self.sweep_dir}", file=sys.stderr)
        for line in problems:
            print(line, file=sys.stderr)
        ran = states["done"] or states["failed"] or states["elsewhere"]
        write = self.report and (ran or not (self.sweep_dir / "runs.parquet").is_file())
        if self._report is not None and self._report.poll() is not None:  # it ended before being asked
            print(f"note: the report's process ended early (exit code {self._report.returncode}); the report is "
                  "written here", file=sys.stderr)
            self._report = None
        try:
            if self._report is not None:
                finish_report(self._report, write)
            elif write:
                from harness.results.report import collect, write_report

                write_report(collect([self.sweep_dir]), self.sweep_dir, figures=self._figures())
        finally:
            discard_ledger(self.ledger)  # made by this invocation, read now
            os.environ.pop(LEDGER_ENV, None)
        if write and self.update_reference:
            shrunk = Path(self.reference_dir) / self.sweep_dir.name
            for name in self.reference or []:
                shrink(self.sweep_dir / "figures" / f"{name}.png", shrunk / f"{name}.png")
        return bool(states["failed"] or states["refused"] or states["unfinished"])
