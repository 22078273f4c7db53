"""Sweep costs, measured side by side in one run, on a grid whose cells share their offline data
(``replay.label_delay=range(N)``, one seed), as a severity, kind, strategy or label sweep does:

- wall time with the pre-deployment cache off (every job trains) against on (no job trains: one run
  filled the cache before the sweep);
- per-job overhead of a cached harness job over an empty Hydra job (same number of jobs);
- the basic launcher against joblib with n_jobs=2, cache on;
- re-running the sweep when every job is finished (all skipped);
- the sweep's figures, drawn once at the end: timed on their own (``python -m harness.report`` on the
  finished sweep, every figure the runs support), since the timed sweeps close with the tables only
  (``++hydra.callbacks.sweep.figures=[]``): a per-job cost is what every further job adds, and the
  figures are drawn once per sweep, however many jobs it has;
- start-up: ``python -m harness.run --help`` and a shell-completion query (what a tab key waits for),
  best of three each, goal under 1.5 s;
- a refused sweep: ``-m seed=range(100) drift=sudden,nope``, the time until the grid sweeper's check of
  every swept value refuses it, before any job (one composition per group choice, a plain value set in
  the first job's config);
- a process's end: once it holds torch, pandas and the report's modules, from its last statement to
  its end, with ``harness.skip_final_collection`` (``gc.freeze`` at exit, registered by every process
  that runs a job) and without it (best of three each);
- a study's sweep as a user runs it: 24 cells of the severity study (3 kinds x 4 severities x 2 seeds,
  the study's size per job), cache filled, basic launcher, closing tables and figures included, against
  the sum of its runs' own ``wall_time_s``: goal at most 1.5x (the rest is the sweep's overhead: the
  process start, the configs composed per job, the closing report); the closing report is also timed on
  its own (``python -m harness.report`` on the finished sweep, the study's figures); then the same sweep
  with the joblib launcher and 2 workers (``hydra/launcher=parallel``), goal at least 1.7x faster, and,
  where the ``ray`` extra is installed (docs/launchers.md), with Ray and 2 workers; each with its numbers
  checked against the basic launcher's, its time beside the runs split by the times its files were
  written (before the first job, between jobs, inside jobs beside their runs, after the last job), and
  the CPU time its processes used, by role, against what the cores could give in its wall time (two
  workers cannot halve a sweep whose cores the basic launcher already keeps busy);
- where a job's time goes: importing the harness in a fresh process (what every joblib worker pays
  once), composing one job's config (the launcher does it once per job; the grid sweeper checks each
  swept value once before any job starts), and the runs themselves (``wall_time_s`` of each
  ``result.json``); from these, the most two workers can gain over the basic launcher.

Every harness sweep with the cache on starts from a cache that one run has filled, so that every
timed job is a cached job.

    python benchmarks/sweep.py [--jobs 24] [--before DIR]

``--before DIR`` measures another checkout too (e.g. an export of an earlier commit), in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from harness import cpu_count

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("empty", "uncached", "basic", "joblib", "skipped", "figures", "parts", "startup", "exit", "study",
         "study_joblib", "study_ray", "check")
LAUNCHERS = {"basic": [], "joblib": ["hydra/launcher=parallel"],  # joblib, 2 workers
             "ray": ["hydra/launcher=ray_cluster", "hydra.launcher.ray.init.num_cpus=2"]}  # the ray extra
STUDY = ["experiment=severity", "drift.kind=covariate,concept,label", "drift.severity=0.25,0.5,0.75,1", "seed=0,1",
         "quiet=true", "hydra/hydra_logging=disabled", "hydra/job_logging=disabled"]
STUDY_FIGURES = ["drift_induced_error", "severity_boxes", "confidence_curves"]  # conf/experiment/severity.yaml's
TINY = ["stream.n_offline=600", "stream.n_deploy=800", "drift.onset=300", "metrics.window=100",
        "offline.n_trials=1", "offline.max_epochs=5", "strategy=[frozen,river_logreg]", "quiet=true",
        "hydra/hydra_logging=disabled", "hydra/job_logging=disabled"]  # fmt: skip


PARTS = """
import sys, time
tic = time.perf_counter()
import harness.run, harness.pipeline.experiment  # the entry, and what its first job imports
from harness.validation import config
from hydra import compose, initialize_config_dir
imported = time.perf_counter() - tic
with initialize_config_dir(str(config.CONF_DIR), version_base="1.3"):
    overrides = sys.argv[1:]
    compose("config", overrides=overrides, return_hydra_config=True)
    tic = time.perf_counter()
    for delay in range(10):
        compose("config", overrides=[*overrides, f"replay.label_delay={delay}"], return_hydra_config=True)
print(imported, (time.perf_counter() - tic) / 10)
"""


def parts(root: Path) -> tuple[float, float]:
    """Seconds to import the harness and what a job needs (torch, River, ...) in a fresh process, and to
    compose one job's config."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", PARTS, *TINY], cwd=root, env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), float(out[1])


def startup(root: Path) -> tuple[float, float]:
    """Best of three: seconds of ``python -m harness.run --help``, and of the completion query that
    Hydra's installed bash completion makes on a tab key (``-sc query=bash`` with the line in COMP_LINE)."""
    line = "drift-harness drift.sever"
    helped = min(timed([sys.executable, "-m", "harness.run", "--help"], root) for _ in range(3))
    query = [sys.executable, "-m", "harness.run", "-sc", "query=bash"]
    env = {"COMP_LINE": line, "COMP_POINT": str(len(line))}
    return helped, min(timed(query, root, env) for _ in range(3))


# A process that holds what a job loads, timed from its last statement to its end; "frozen" registers the
# gc.freeze at exit that every process running a job registers, "unfrozen" leaves the interpreter's last
# collections to walk every object.
EXITING = """
import sys, time
import harness, harness.run, harness.pipeline.jobs, harness.results.report
if sys.argv[1] == "frozen":
    harness.skip_final_collection()
print(time.time())
"""


def exit_time(root: Path) -> tuple[float, float]:
    """Best of three: seconds from a loaded process's last statement to its end, with gc.freeze at exit
    and without it."""
    env = {**os.environ, "PYTHONPATH": str(root)}

    def once(way: str) -> float:
        done = subprocess.run([sys.executable, "-c", EXITING, way], cwd=root, env=env, check=True, capture_output=True,
                              text=True)
        return time.time() - float(done.stdout)

    return min(once("frozen") for _ in range(3)), min(once("unfrozen") for _ in range(3))


def refusal(root: Path, sweep: Path) -> float:
    """Seconds until a sweep of 100 seeds and a misspelt drift choice is refused (the sweeper checks every
    swept value before any job starts)."""
    tic = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness.run", "-m", "seed=range(100)", "drift=sudden,nope",
                           f"hydra.sweep.dir={sweep}"], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          capture_output=True, text=True)
    assert done.returncode != 0 and "drift/nope" in done.stderr, done.stderr
    return time.perf_counter() - tic


def study(root: Path, tmp: Path, name: str, launcher: str = "basic") -> tuple:
    """Seconds of the 24-cell severity sweep under ``launcher`` (cache filled by a first run of each seed,
    shared by the sweeps of one checkout; closing tables and figures included), the sum of its runs'
    ``wall_time_s``, its closing report redone on its own (basic only, else NaN), for another launcher
    whether its numbers equal the basic launcher's (``runs.parquet`` without times), and :func:`split`."""
    cache = f"offline.cache_dir={tmp / ('cache-' + name)}"
    for seed in (0, 1):  # the offline data depend on the seed only: one run per seed fills the cache
        warm = tmp / f"{name}-warm{seed}"
        if not warm.exists():
            timed([sys.executable, "-m", "harness.run", *STUDY[:1], "hydra.mode=RUN", f"seed={seed}", "quiet=true",
                   f"hydra.run.dir={warm}", cache], root)
    sweep, started = tmp / f"{name}-{launcher}", time.time()
    wall, cpu = timed_with_cpu([sys.executable, "-m", "harness.run", *STUDY, *LAUNCHERS[launcher],
                                f"hydra.sweep.dir={sweep}", cache], root)
    parts = {**split(sweep, started, time.time(), one_process=launcher == "basic"), "cpu": cpu, "wall": wall}
    if launcher != "basic":
        return wall, parts["runs"], float("nan"), numbers(sweep).equals(numbers(tmp / f"{name}-basic")), parts
    report = timed([sys.executable, "-m", "harness.report", str(sweep), "--out", str(tmp / f"{name}-report"),
                    "--figures", *STUDY_FIGURES], root)
    return wall, parts["runs"], report, True, parts


def split(sweep: Path, started: float, ended: float, *, one_process: bool) -> dict:
    """Where a finished sweep's time beside its runs went, from its files: a job starts running when it
    writes ``.hydra/`` (its config composed, Hydra's set-up done, the harness imported) and ends with
    ``result.json``, whose ``wall_time_s`` is its run. Seconds before the first job's ``.hydra/``, inside
    jobs beside their runs (summed), after the last ``result.json``, and (``one_process``: the basic
    launcher, one job after another) between one job's ``result.json`` and the next job's ``.hydra/``,
    summed: composing its config and Hydra's set-up; and ``runs``, the runs' own seconds summed."""
    jobs = sorted((path.parent.joinpath(".hydra", "overrides.yaml").stat().st_mtime, path.stat().st_mtime,
                   json.loads(path.read_text())["wall_time_s"]) for path in sweep.rglob("result.json"))
    between = sum(start - end for (_, end, _), (start, _, _) in zip(jobs, jobs[1:])) if one_process else float("nan")
    return {"before": jobs[0][0] - started, "between": between, "inside": sum(end - start - run for start, end, run in jobs),
            "after": ended - max(end for _, end, _ in jobs), "jobs": len(jobs), "runs": sum(run for _, _, run in jobs)}


def numbers(sweep: Path) -> pd.DataFrame:
    """A sweep's ``runs.parquet`` without its run directories and times, in one order."""
    runs = pd.read_parquet(sweep / "runs.parquet").drop(columns=["run", "samples_per_s"], errors="ignore")
    return runs.sort_values(["drift.kind", "drift.severity", "seed", "strategy", "phase"]).reset_index(drop=True)


def ray_installed(root: Path) -> bool:
    """The Ray launcher's plugin here, and its config in ``root`` (an earlier checkout may lack it)."""
    return (importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
            and (root / "conf" / "hydra" / "launcher" / "ray_cluster.yaml").is_file())


def runs_time(sweep: Path) -> float:
    """Seconds the runs of a finished sweep took themselves (``wall_time_s`` of its ``result.json``)."""
    return sum(json.loads(path.read_text())["wall_time_s"] for path in sweep.rglob("result.json"))


CORES = cpu_count()  # the CPUs this benchmark's processes may run on
ROLES = {"harness.results.follow": "the closing report's process (its figure forks included)",
         "loky": "the launcher's workers", "ray::": "the launcher's workers", "default_worker.py": "the launcher's workers"}


def stat_fields(pid: int | str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces and brackets):
    ``[0]`` the state, ``[1]`` the parent, ``[11]`` and ``[12]`` user and system clock ticks."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> tuple[float, str]:
    """CPU seconds ``pid`` has used so far and its command line ("" once it has ended)."""
    try:
        fields = stat_fields(pid)
        line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return 0.0, ""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), line


def descendants(root: int) -> list[int]:
    """``root`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(stat_fields(entry.name)[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        found.append(pid := todo.pop())
        todo += children.get(pid, [])
    return found


def timed_with_cpu(command: list[str], root: Path = ROOT) -> tuple[float, dict[str, float]]:
    """:func:`timed`, with the CPU seconds its processes used: ``all`` and by role, read from /proc every
    0.05 s: the sweep's process, the closing report's, the launcher's workers, ``the rest``. ``all`` is
    exact for the processes the sweep waits for (``getrusage`` of its children: what a process used
    after the last look goes to ``the rest``); Ray's own processes are not waited for, and count as last
    seen."""
    before = os.times()
    tic = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:  # a file, not a pipe: nobody reads a pipe while it runs
        process = subprocess.Popen(command, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                                   stdout=subprocess.DEVNULL, stderr=errors)
        used: dict[int, tuple[float, str]] = {}
        while process.poll() is None:
            for pid in descendants(process.pid):
                seconds, line = cpu_seconds(pid)
                if line:
                    used[pid] = (seconds, line)
            time.sleep(0.05)
        wall = time.perf_counter() - tic
        if process.returncode != 0:
            errors.seek(0)
            raise subprocess.CalledProcessError(process.returncode, command, stderr=errors.read())
    after = os.times()
    waited = after.children_user + after.children_system - before.children_user - before.children_system
    roles = {"all": max(waited, sum(seconds for seconds, _ in used.values())),
             "the sweep's process": used.get(process.pid, (0.0, ""))[0]}
    for pid, (seconds, line) in used.items():
        role = next((name for key, name in ROLES.items() if key in line), None) if pid != process.pid else None
        if role:
            roles[role] = roles.get(role, 0.0) + seconds
    roles["the rest"] = roles["all"] - sum(v for k, v in roles.items() if k != "all")
    return wall, roles


def cpu_line(wall: float, cpu: dict[str, float]) -> str:
    """How busy a sweep kept the machine's cores, and who used them (:func:`timed_with_cpu`)."""
    shares = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items() if name != "all")
    return (f"CPU: {cpu['all']:.1f} s in {wall:.1f} s on {CORES} cores ({cpu['all'] / (wall * CORES):.0%} busy):"
            f" {shares}")


def timed(command: list[str], root: Path = ROOT, extra_env: dict | None = None) -> float:
    tic = time.perf_counter()
    env = {**os.environ, **(extra_env or {}), "PYTHONPATH": str(root)}  # the checkout's own harness
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    return time.perf_counter() - tic


def measure(roots: list[Path], jobs: int, steps: list[str]) -> list[dict]:
    """Seconds of each sweep of ``jobs`` cells, for the code in each of ``roots``; the checkouts take
    turns sweep by sweep, so that a change in the machine's load falls on all of them alike."""
    grid = f"replay.label_delay=range({jobs})"
    python = sys.executable
    times: list[dict] = [{} for _ in roots]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def harness(root: Path, name: str, *extra: str) -> float:
            cache, warm = f"offline.cache_dir={tmp / ('cache-' + name)}", tmp / f"warm-{name}"
            if "offline.cache=false" not in extra and not warm.exists():  # the re-run finds its cache filled
                timed([python, "-m", "harness.run", *TINY, f"hydra.run.dir={warm}", cache], root)
            return timed([python, "-m", "harness.run", "-m", grid, *TINY, *extra, f"hydra.sweep.dir={tmp / name}",
                          cache, "++hydra.callbacks.sweep.figures=[]"], root)

        sweeps = {
            "empty": lambda root, i: timed([python, str(ROOT / "benchmarks" / "empty_app.py"), "-m",
                                            f"+x=range({jobs})", f"hydra.sweep.dir={tmp / f'empty{i}'}",
                                            "hydra/hydra_logging=disabled"], root),
            "uncached": lambda root, i: harness(root, f"uncached{i}", "offline.cache=false"),
            "basic": lambda root, i: harness(root, f"basic{i}"),
            "joblib": lambda root, i: harness(root, f"joblib{i}", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
            "skipped": lambda root, i: harness(root, f"basic{i}"),
            "figures": lambda root, i: timed([python, "-m", "harness.report", str(tmp / f"basic{i}"),
                                              "--out", str(tmp / f"report{i}")], root),
            "parts": lambda root, i: parts(root),
            "startup": lambda root, i: startup(root),
            "exit": lambda root, i: exit_time(root),
            "study": lambda root, i: study(root, tmp, f"study{i}"),
            "study_joblib": lambda root, i: study(root, tmp, f"study{i}", "joblib"),
            "study_ray": lambda root, i: study(root, tmp, f"study{i}", "ray") if ray_installed(root) else float("nan"),
            "check": lambda root, i: refusal(root, tmp / f"refused{i}"),
        }
        for step, work in sweeps.items():
            for i, root in enumerate(roots):
                times[i][step] = work(root, i) if step in steps else float("nan")
                value = times[i][step]
                shown = (", ".join(f"{v:.2f}" for v in value if not isinstance(v, dict)) if isinstance(value, tuple)
                         else f"{value:.2f}")
                print(f"  {step} ({root}): {shown} s", file=sys.stderr, flush=True)
                if step == "basic":
                    times[i]["runs"] = runs_time(tmp / f"basic{i}") if "basic" in steps else float("nan")
    return times


def report_study(times: dict) -> None:
    """The start-up and the study's sweep, against their goals."""
    if isinstance(times["startup"], tuple):
        helped, completed = times["startup"]
        print(f"start-up: {helped:.2f} s for --help, {completed:.2f} s for a completion query (goal < 1.5 s)")
    if isinstance(times["exit"], tuple):
        frozen, unfrozen = times["exit"]
        print(f"a process's end once it holds torch, pandas and the report: {frozen:.2f} s, against {unfrozen:.2f} s"
              f" without gc.freeze at exit")
    if not math.isnan(times["check"]):
        print(f"a sweep of 100 seeds and a misspelt drift choice (-m seed=range(100) drift=sudden,nope) refused in"
              f" {times['check']:.2f} s")
    if isinstance(times["study"], tuple):
        wall, runs, alone, _, parts = times["study"]
        print(f"severity study, 24 cached cells, basic launcher, figures included: {wall:.1f} s against its runs'"
              f" {runs:.1f} s -> {wall / runs:.2f}x (goal <= 1.5x); overhead {wall - runs:.1f} s, of which"
              f" {parts['after']:.1f} s after the last job (the closing report, and the process's end); the report redone"
              f" on its own {alone:.1f} s")
        print(f"  {split_line(parts)}")
        print(f"  {cpu_line(parts['wall'], parts['cpu'])}")
        for launcher in ("joblib", "ray"):
            if isinstance(times[f"study_{launcher}"], tuple):
                other, other_runs, _, same, parts = times[f"study_{launcher}"]
                print(f"the same sweep, {' '.join(LAUNCHERS[launcher])} (2 workers): {other:.1f} s (its runs"
                      f" {other_runs:.1f} s, {parts['after']:.1f} s after the last job) -> {wall / other:.2f}x faster than the"
                      f" basic launcher (goal >= 1.7x); {'the same' if same else 'NOT the same'} numbers as the basic"
                      f" launcher's")
                print(f"  {split_line(parts)}")
                print(f"  {cpu_line(parts['wall'], parts['cpu'])}")
                print(f"  {bound_line(times['study'][4], parts)}")


def bound_line(basic: dict, other: dict) -> str:
    """The most any launcher could gain over the basic one on this machine's cores: the same sweep
    cannot take less CPU than the basic launcher's did (the same runs, compositions and report, and
    each worker's own start on top), and the cores give at most their count in CPU seconds a second."""
    fastest = basic["cpu"]["all"] / CORES
    return (f"bound: {basic['wall'] / fastest:.2f}x at most on {CORES} cores (the basic launcher's {basic['cpu']['all']:.1f}"
            f" CPU seconds, all cores busy, would take {fastest:.1f} s); this launcher's sweep used"
            f" {other['cpu']['all']:.1f} ({other['cpu']['all'] - basic['cpu']['all']:+.1f})")


def split_line(parts: dict) -> str:
    """Where a sweep's time beside its runs went (:func:`split`)."""
    n = parts["jobs"]
    between = (f", {parts['between']:.1f} s between jobs ({parts['between'] / (n - 1):.2f} s a job: its config"
               f" composed, Hydra's set-up)" if not math.isnan(parts["between"]) else "")
    return (f"beside the runs: {parts['before']:.1f} s before the first job ran (start-up, checks, the harness's"
            f" imports){between}, {parts['inside']:.1f} s inside jobs beside their runs ({parts['inside'] / n:.2f} s a"
            f" job), {parts['after']:.1f} s after the last job (the closing report, the process's end)")


def report(times: dict, n: int) -> None:
    report_study(times)
    if all(isinstance(times[k], float) and math.isnan(times[k]) for k in STEPS[:7]):
        return
    empty, uncached, basic, joblib, skipped, figures = (times[k] for k in STEPS[:6])
    imported, composed = times["parts"] if isinstance(times["parts"], tuple) else (float("nan"),) * 2
    runs = times["runs"]
    print(f"empty Hydra job sweep:            {empty:6.2f} s  ({empty / n * 1000:6.0f} ms/job)")
    print(f"harness sweep, cache off:         {uncached:6.2f} s  ({uncached / n * 1000:6.0f} ms/job)")
    print(f"harness sweep, cache on:          {basic:6.2f} s  ({basic / n * 1000:6.0f} ms/job)"
          f"  -> {uncached / basic:.2f}x faster")
    print(f"harness sweep, joblib n_jobs=2:   {joblib:6.2f} s  -> speed-up over basic {basic / joblib:.2f}x")
    print(f"re-run, all {n} jobs skipped:     {skipped:6.2f} s  ({skipped / basic:.2f} of the first run)")
    print(f"the sweep's figures, drawn once:  {figures:6.2f} s  (python -m harness.report on the {n} runs;"
          f" {(basic + figures - empty) / n:.2f} s per job with them)")
    # the parent starts and closes alone; each worker imports the harness before its first job
    bound = basic / (imported + imported + (basic - imported) / 2)
    rest = (basic - imported) / n - runs / n - composed
    print(f"where a cached job's time goes: its run {runs / n:.2f} s (result.json wall_time_s), composing its"
          f" config {composed:.2f} s, the rest {rest:.2f} s (Hydra's job bookkeeping, the sweep's start and"
          f" closing tables); importing the harness {imported:.2f} s per process")
    print(f"joblib with 2 workers can gain at most about {bound:.2f}x here: the parent starts ({imported:.1f} s)"
          f" and closes alone, and each worker imports the harness again ({imported:.1f} s)")
    print(f"per-job overhead over an empty Hydra job: {(basic - empty) / n:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=24, help="cells of the grid")
    parser.add_argument("--before", type=Path, help="another checkout to measure too, taking turns sweep by sweep")
    parser.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS,
                        help="the sweeps to run (the others print nan; skipped and figures need basic)")
    args = parser.parse_args()
    n = args.jobs
    load = os.getloadavg()[0]
    roots = [args.before.resolve(), ROOT] if args.before else [ROOT]
    times = measure(roots, n, args.steps)
    print(f"{n} jobs sharing their offline data, each: {TINY[0]}, {TINY[1]}, two strategies, one search trial"
          f" (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
    for root, measured in zip(roots, times):
        if len(roots) > 1:
            print(f"-- {root}:")
        report(measured, n)


if __name__ == "__main__":
    main()
