"""Mutation testing of the modules where one wrong line changes a result, with mutmut 3.

For each module, a scratch copy of the repository (``harness/``, ``conf/``, ``tests/``,
``pyproject.toml`` with a ``[tool.mutmut]`` section for that module alone) is made in a temporary
directory, and ``mutmut run`` mutates only that module and runs only the fast test files that cover
it (:data:`MODULES`), never the whole suite. Per module it prints the mutants tried, killed,
survived and timed out, the survivors judged equivalent (listed with a reason in
``benchmarks/mutation_equivalent.txt``, not counted against the score) and the score:
(killed + timeout) / (tried - equivalent); a mutant no selected test runs ("no tests") counts as
survived. Survivors not listed as equivalent are printed by name; ``mutmut show NAME`` in the kept
scratch directory (``--keep``) shows the diff, and ``--again DIR`` runs a kept directory's
survivors again with the current tests and module source (with the mutants of any function whose
code changed since).

    python benchmarks/mutation.py [--module replay tally ...] [--workers 1] [--keep] [--again DIR ...]

Outside the timed test suite; ``make mutation`` runs every module (one to two hours on one core:
scores/shift.py alone took 30 minutes on a busy shared machine).
"""

from __future__ import annotations

import argparse
import fnmatch
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.txt")
PYTEST_ARGS = ["-p", "no:cacheprovider", "-q", "-x", "--no-header", "-o", "addopts="]

# module -> the fast test files that pin it (most important first: the order `make mutation` runs)
MODULES = {
    "harness/pipeline/replay.py": ["tests/test_pins_label_arrival.py"],
    "harness/scores/metrics.py": ["tests/test_metrics.py", "tests/test_pins_ties.py", "harness/scores/metrics.py"],
    "harness/scores/tally.py": ["tests/test_pins_ties.py"],
    "harness/scores/terms.py": ["tests/test_metrics.py", "tests/test_pins_ties.py"],
    "harness/strategies/retrain.py": ["tests/test_pins_retrain.py", "harness/strategies/retrain.py"],
    "harness/offline/cache.py": ["tests/test_pins_cache_key.py"],
    "harness/scores/detection.py": ["tests/test_pins_ties.py"],
    "harness/streams/base.py": ["tests/test_pins_ties.py"],
    "harness/scores/shift.py": ["tests/test_monitor.py", "tests/test_monitor_wiring.py", "harness/scores/shift.py"],
    "harness/monitor/estimates.py": ["tests/test_monitor.py", "tests/test_monitor_wiring.py", "tests/test_cbpe.py",
                                     "harness/monitor/estimates.py"],
    "harness/streams/faults.py": ["tests/test_pipeline_faults.py"],
    "harness/monitor/quality.py": ["tests/test_pipeline_monitors.py"],
}
# Modules whose docstring examples are tests too (their path is in MODULES): pytest collects them with
# --doctest-modules, which must be on for every run, since mutmut later selects single tests by node id.
DOCTESTS = {"harness/scores/metrics.py", "harness/strategies/retrain.py", "harness/scores/shift.py",
            "harness/monitor/estimates.py"}
# Where only part of a module decides a result, only the mutants of these functions are run (mutmut's
# name patterns): the key of the cache (the rest is files and renames), the schedules of
# streams/base.py (the rest is input checks and their messages), what decides which samples each
# retraining of strategies/retrain.py trains on and where its detector fires (not its argument checks,
# serving or memory counts), the loop, its label arrival, mask and serving calls in replay.py (not
# its memory probes, whose values no test can pin, nor measured_blocks).
ONLY = {
    "harness/offline/cache.py": ["harness.offline.cache.x_cache_key__mutmut_*"],
    "harness/streams/base.py": [f"harness.streams.base.xǁDriftScheduleǁ{name}__mutmut_*"
                                for name in ("progress", "phase", "change_points", "amount")],
    "harness/pipeline/replay.py": [
        f"harness.pipeline.replay.x_{name}__mutmut_*"
        for name in ("replay", "_replay_one", "label_arrival", "label_mask", "serving_chunks")
    ],
    "harness/strategies/retrain.py": ["harness.strategies.retrain.x_detector_input__mutmut_*"] + [
        f"harness.strategies.retrain.xǁ{cls}ǁ{name}__mutmut_*" for cls, names in (
            ("Retraining", ("fit_offline", "_retrain_seed", "_retrain")),
            ("RetrainPeriodic", ("fit_offline", "_push", "_last_window", "learn")),
            ("RetrainTriggered", ("_fresh_detector", "fit_offline", "_errors", "learn"))) for name in names],
}


def equivalent_mutants() -> dict[str, str]:
    """``mutant name -> reason`` from :data:`EQUIVALENT` (``name  # reason`` per line)."""
    if not EQUIVALENT.exists():
        return {}
    out = {}
    for line in EQUIVALENT.read_text().splitlines():
        name, _, reason = line.partition("#")
        if name.strip():
            out[name.strip()] = reason.strip()
    return out


def mutmut_section(module: str, tests: list[str]) -> str:
    """The ``[tool.mutmut]`` section that mutates ``module`` only and runs ``tests`` only."""
    return "\n".join([
        "[tool.mutmut]",
        'source_paths = ["harness"]',
        f"only_mutate = {json.dumps([module])}",
        'also_copy = ["conf", "tests"]',
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        f"pytest_add_cli_args = {json.dumps(PYTEST_ARGS + (['--doctest-modules'] if module in DOCTESTS else []))}",
        'process_isolation = "forkserver"',  # torch is not fork-safe once imported by the stats run
        "use_git_change_detection = false",
        "",
    ])


def scratch_copy(module: str, tests: list[str]) -> Path:
    """A temporary copy of what the tests need, configured for ``module``."""
    work = Path(tempfile.mkdtemp(prefix=f"mutation-{Path(module).stem}-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("harness", "conf", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = pyproject.replace('pythonpath = ["."]\n', "")  # mutmut puts mutants/ first on sys.path itself
    (work / "pyproject.toml").write_text(pyproject + "\n" + mutmut_section(module, tests))
    return work


def statuses(work: Path) -> dict[str, str]:
    """``mutant name -> status`` (killed, survived, timeout, ...) as ``mutmut results --all`` lists them."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                         capture_output=True, text=True, check=True).stdout
    pairs = (line.strip().rsplit(": ", 1) for line in out.splitlines() if ": " in line)
    return {name: status for name, status in pairs}


def mutmut_run(work: Path, workers: int, names: list[str]) -> None:
    """``mutmut run`` in ``work`` on the mutants ``names`` (patterns; all when empty), quietly."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(workers), *names], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def summary(module: str, work: Path) -> dict:
    """The counts of ``module``'s mutants in ``work``, its score and its open survivors."""
    only = ONLY.get(module, [])
    status = statuses(work)
    if only:  # the functions outside the part that decides a result are not counted
        status = {name: s for name, s in status.items() if any(fnmatch.fnmatch(name, p) for p in only)}
    equivalent = equivalent_mutants()
    counts = {key: sum(s == key for s in status.values()) for key in ("killed", "survived", "timeout", "no tests")}
    judged = [name for name, s in status.items() if s == "survived" and name in equivalent]
    tested = len(status) - len(judged) - sum(s in ("skipped", "not checked") for s in status.values())
    score = (counts["killed"] + counts["timeout"]) / tested if tested > 0 else float("nan")
    still = [name for name, s in status.items() if s in ("survived", "no tests") and name not in equivalent]
    unchecked = [name for name, s in status.items() if s == "not checked"]
    return {"module": module, "tried": len(status), **counts, "equivalent": len(judged), "score": score,
            "open": still, "unchecked": unchecked}


def run_module(module: str, workers: int, keep: bool) -> dict:
    """Run mutmut on ``module`` in a fresh scratch copy; the counts and the survivors."""
    work = scratch_copy(module, MODULES[module])
    tic = time.perf_counter()
    mutmut_run(work, workers, ONLY.get(module, []))
    row = {**summary(module, work), "seconds": time.perf_counter() - tic, "scratch": str(work) if keep else None}
    if not keep:
        shutil.rmtree(work)
    return row


def run_again(work: Path, workers: int) -> dict:
    """Copy the current tests and the module's current source into a kept scratch directory and run
    its survivors again (mutmut collects the new tests' coverage first): the score after tests were
    added for them. Where the module's code changed (a bug a survivor exposed), mutmut makes that
    module's mutants again and the mutants of the changed functions, which lost their result, run too."""
    config = tomllib.loads((work / "pyproject.toml").read_text())["tool"]["mutmut"]
    module = config["only_mutate"][0]
    for target in (work / "tests", work / "mutants" / "tests"):
        shutil.copytree(ROOT / "tests", target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / module, work / module)
    tic = time.perf_counter()
    still = summary(module, work)["open"]
    if still:  # no names would run every mutant
        mutmut_run(work, workers, still)
    unchecked = summary(module, work)["unchecked"]
    if unchecked:
        mutmut_run(work, workers, unchecked)
    return {**summary(module, work), "seconds": time.perf_counter() - tic, "scratch": str(work)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--module", nargs="*", help="module stems or paths (default: all, in order)")
    parser.add_argument("--workers", type=int, default=1, help="mutants run in parallel (the CPU may be shared)")
    parser.add_argument("--keep", action="store_true", help="keep each scratch directory (for mutmut show)")
    parser.add_argument("--again", nargs="*", type=Path, default=[],
                        help="kept scratch directories whose survivors to run again with the current tests")
    args = parser.parse_args()
    chosen = [] if args.again and not args.module else list(MODULES) if not args.module else [m for w in args.module for m in MODULES if w in (m, Path(m).stem)]
    if not chosen and not args.again:
        parser.error(f"--module {args.module}: none of {[Path(m).stem for m in MODULES]}")
    print(f"{'module':32} {'tried':>6} {'killed':>7} {'survived':>9} {'no tests':>9} {'timeout':>8} {'equiv':>6} "
          f"{'score':>7}")
    rows = (run_module(module, args.workers, args.keep) for module in chosen)
    again = (run_again(work, args.workers) for work in args.again)
    for row in itertools.chain(rows, again):  # one module at a time, printed as it ends
        print(f"{row['module']:32} {row['tried']:>6} {row['killed']:>7} {row['survived']:>9} {row['no tests']:>9} "
              f"{row['timeout']:>8} {row['equivalent']:>6} {row['score']:>7.1%}   ({row['seconds']:.0f} s)", flush=True)
        for name in row["open"]:
            print(f"    survived: {name}")
        if row["scratch"]:
            print(f"    scratch: {row['scratch']}")


if __name__ == "__main__":
    main()
