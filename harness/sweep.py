"""Sweep-level feedback as a Hydra callback: a progress bar, the closing count, the aggregated tables.

Hydra runs the callback in the launching process whatever the launcher (basic, joblib, submitit),
so it watches the job directories on disk rather than the jobs themselves: a job of this sweep is
one whose ``.hydra/`` Hydra (re)wrote after the sweep started; it is done or failed by its
``result.json`` written after that, skipped if its ``result.json`` is older.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from tqdm.auto import tqdm

from harness.report import collect, find_run_dirs, write_report
from harness.results import RESULT, read_result


def count_jobs(config: DictConfig) -> int:
    """Jobs the basic sweeper will launch: the product of the sweep's command-line and preset values."""
    params = config.hydra.sweeper.get("params") or {}
    overrides = [f"{key}={value}" for key, value in params.items()] + list(config.hydra.overrides.task)
    parsed = OverridesParser.create().parse_overrides(overrides)
    return len(BasicSweeper.split_arguments(parsed, None)[0])


def job_states(sweep_dir: Path, since: float) -> Counter:
    """done / failed / skipped / running among the jobs of the sweep that started at ``since``."""
    states: Counter = Counter()
    for run_dir in find_run_dirs([sweep_dir]):
        if (run_dir / ".hydra" / "overrides.yaml").stat().st_mtime < since:
            continue  # an older job of this directory, not part of this sweep
        result = read_result(run_dir)
        if result is None:
            states["running"] += 1
        elif (run_dir / RESULT).stat().st_mtime < since:
            states["skipped"] += 1
        else:
            states["done" if result.get("status") == "ok" else "failed"] += 1
    return states


def shrink(source: Path, target: Path, *, max_width: int = 900) -> Path:
    """A web-sized copy of a figure (palette PNG), small enough to commit."""
    from PIL import Image  # matplotlib's own dependency

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.thumbnail((max_width, max_width * 4))
        image.convert("RGB").quantize(colors=64).save(target, optimize=True)
    return target


class SweepCallback(Callback):
    """At the end of a multirun: count the jobs, aggregate them with ``harness.report`` (drawing
    ``figures``, default all that the data supports) and copy the ``reference`` figures, shrunk,
    to ``reference_dir/<sweep name>/`` (the small figures the documentation embeds)."""

    def __init__(
        self,
        report: bool = True,
        progress: bool = True,
        poll_s: float = 1.0,
        figures: list[str] | None = None,
        reference: list[str] | None = None,
        reference_dir: str = "results/reference",
    ):
        self.report = report
        self.progress = progress
        self.poll_s = poll_s
        self.figures = list(figures) if figures is not None else None
        self.reference = list(reference or [])
        self.reference_dir = Path(reference_dir)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> dict:
        # Launchers such as joblib pickle the callbacks along with each job; the watcher stays home.
        return {k: v for k, v in self.__dict__.items() if k not in ("_stop", "_thread")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _stop=threading.Event(), _thread=None)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self.started = time.time() - 1.0  # file times have coarse resolution on some filesystems
        self.sweep_dir = Path(config.hydra.sweep.dir)
        if self.progress and not config.get("quiet", False):
            total = count_jobs(config)
            self._thread = threading.Thread(target=self._watch, args=(total,), daemon=True)
            self._thread.start()

    def _watch(self, total: int) -> None:
        bar = tqdm(total=total, unit="job", desc="sweep", position=0, dynamic_ncols=True)
        while True:
            stopping = self._stop.wait(self.poll_s)
            states = job_states(self.sweep_dir, self.started) if self.sweep_dir.exists() else Counter()
            bar.n = states["done"] + states["failed"] + states["skipped"]
            bar.set_postfix(failed=states["failed"], skipped=states["skipped"], refresh=not stopping)
            if stopping:
                break
        bar.close()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        states = job_states(self.sweep_dir, self.started)
        print(
            f"sweep: {states['done']} done, {states['skipped']} skipped, {states['failed']} failed"
            + (f", {states['running']} unfinished" if states["running"] else "")
            + f" -> {self.sweep_dir}",
            file=sys.stderr,
        )
        up_to_date = not (states["done"] or states["failed"]) and (self.sweep_dir / "runs.parquet").is_file()
        if self.report and not up_to_date:  # a fully skipped re-run keeps the report it already has
            write_report(collect([self.sweep_dir]), self.sweep_dir, figures=self.figures)
            for name in self.reference:
                shrink(self.sweep_dir / "figures" / f"{name}.png", self.reference_dir / self.sweep_dir.name / f"{name}.png")
        if states["failed"] or states["running"]:
            sys.exit(1)  # a SystemExit is not swallowed by Hydra's callback wrapper
