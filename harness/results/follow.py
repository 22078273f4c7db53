"""A sweep's closing report, prepared while its jobs run.

    python -m harness.results.follow SWEEP_DIR LEDGER FIGURES_JSON

:class:`harness.pipeline.sweep.SweepCallback` starts this process when a sweep starts. While the jobs
run it imports the report's modules and reads every run the ledger records as done, on a core the
jobs leave free (the basic launcher runs them one at a time; joblib's and Ray's parent waits). A line
``close`` on its standard input writes the report into ``SWEEP_DIR`` (as ``harness.report`` would:
every run is found again, and one is read again when any of its files changed since); ``quit`` or
the end of its input (the sweep was stopped) ends it writing nothing. It holds no torch, so it draws
each figure in a fork of itself, all at once, and writes the tables meanwhile. Exit code 0 when it did
what it was told, 1 on an error (said on standard error).
"""

from __future__ import annotations

import argparse
import io
import os
import select
import signal
import sys
from functools import partial
from pathlib import Path

from harness import skip_final_collection
from harness.results.records import parse_json, read_ledger_entry
from harness.results.figure_names import FIGURES
from harness.results.report import collect, read_one, write_report

POLL_S = 0.25  # how often the ledger is looked at for newly finished runs


def files_signature(run_dir: Path) -> tuple:
    """Each file below ``run_dir`` with its size and modification time: a run whose signature is
    unchanged holds what was read from it."""
    files = sorted(path for path in run_dir.rglob("*") if path.is_file())
    return tuple((str(path), stat.st_size, stat.st_mtime_ns) for path in files for stat in [path.stat()])


def recall(run_dir: Path, memo: dict) -> tuple[str, object]:
    """:func:`harness.results.report.read_one` of ``run_dir``, read once while its files stay as they were."""
    signature = files_signature(run_dir)  # before the read: a file changed during it is read again later
    if run_dir in memo and memo[run_dir][0] == signature:
        return memo[run_dir][1]
    memo[run_dir] = (signature, read_one(run_dir))
    return memo[run_dir][1]


def read_finished(sweep_dir: Path, ledger: Path, memo: dict, seen: set[str]) -> None:
    """Read the runs the ledger newly records as done, each under the path the report will find it by."""
    for entry_path in sorted(ledger.glob("*.json")) if ledger.is_dir() else []:
        if entry_path.name in seen or entry_path.name.startswith("."):
            continue
        seen.add(entry_path.name)
        entry = read_ledger_entry(entry_path)  # a corrupt entry reads as failed: left to the close
        try:
            run_dir = sweep_dir / Path(entry["job_dir"]).resolve().relative_to(sweep_dir.resolve())
        except (OSError, ValueError):  # not below the sweep: read at close
            continue
        if entry["state"] == "done":
            recall(run_dir, memo)


def warm_up(figures: bool) -> None:
    """Import what the report imports on first use: the post-hoc tests, tabulate and jinja2 (by which
    pandas writes Markdown and LaTeX) and, with ``figures``, the figures' modules and what a first
    figure loads (fonts, the PNG and PDF backends)."""
    import pandas as pd
    import scikit_posthocs  # noqa: F401

    table = pd.DataFrame({"warm-up": [1.0]})
    table.to_markdown(), table.to_latex()
    if not figures:
        return
    import harness.figures.study  # noqa: F401
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("warm-up")
    for form in ("png", "pdf"):
        fig.savefig(io.BytesIO(), format=form)
    plt.close(fig)


def follow(sweep_dir: Path, ledger: Path, figures: list[str] | None, commands=sys.stdin) -> bool:
    """Read finished runs until ``commands`` says ``close`` (write the report: True) or ends (False)."""
    warm_up(figures != [])
    memo: dict = {}
    seen: set[str] = set()
    while True:
        ready, _, _ = select.select([commands], [], [], POLL_S)
        if ready:
            if commands.readline().strip() != "close":
                return False
            read = partial(recall, memo=memo)
            write_report(collect([sweep_dir], read=read), sweep_dir, figures=figures)
            return True
        read_finished(sweep_dir, ledger, memo, seen)


def figure_list(text: str) -> list[str] | None:
    """The ``FIGURES_JSON`` argument: ``null`` (every figure the runs support), ``[]`` (none) or a list of
    figure names."""
    try:
        figures = parse_json(text)
    except ValueError:
        figures = text
    if figures is None or (isinstance(figures, list) and all(name in FIGURES for name in figures)):
        return figures
    raise argparse.ArgumentTypeError(f"{text!r} is not null or a JSON list of figures from {list(FIGURES)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.results.follow", description=__doc__.split("\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="where the sweep's jobs run and its report goes")
    parser.add_argument("ledger", type=Path, help="the sweep's ledger directory (how each job ended)")
    parser.add_argument("figures", type=figure_list, help="null, [] or a JSON list of figure names")
    args = parser.parse_args(argv)
    try:
        follow(args.sweep_dir, args.ledger, args.figures)
    except Exception as error:
        print(f"error: the sweep's closing report failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the sweep's to handle: it ends this process
    os.nice(5)  # work in the background: the sweep's jobs go first
    skip_final_collection()
    sys.exit(main())
