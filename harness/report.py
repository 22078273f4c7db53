"""The study report from the command line (``python -m harness.report DIR [DIR ...] [--out DIR]
[--metric accuracy]``): the argument checks, then :func:`harness.results.report.write_report`, whose
module says what is written (the ``--help`` text). Reads results only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import skip_final_collection
from harness.results import report as study
from harness.results.ownership import check_owned
from harness.results.figure_names import FIGURES
from harness.results.report import HIGHER_IS_BETTER, collect, write_report
from harness.validation.errors import RunDirectoryError
from harness.validation.validate import did_you_mean


def distinct_dirs(dirs: list[Path]) -> list[Path]:
    """``dirs`` with each directory once (the same one given twice, or by two spellings, would count
    its runs twice in every comparison); a note on stderr names what was dropped."""
    seen, kept = set(), []
    for directory in dirs:
        key = directory.resolve()
        if key in seen:
            print(f"note: {directory} is given twice; its runs are read once", file=sys.stderr)
            continue
        seen.add(key)
        kept.append(directory)
    return kept


class LastOfTwice(argparse.Action):
    """Store an option's value as argparse does (the last one given wins), with the note the run's command
    line gives when the option is given again with another value: a second ``--out`` was a silent change
    of where the report goes. One parser per :func:`main` call, so the first value is kept on the action."""

    earlier: tuple | None = None  # (as typed, value) of the option's last occurrence

    def __call__(self, parser, namespace, values, option_string=None):
        typed = f"{option_string} {' '.join(map(str, values)) if isinstance(values, list) else values}".strip()
        if self.earlier is not None and self.earlier[1] != values:
            print(f"note: {option_string} is given twice ({self.earlier[0]}, then {typed}); the last one is used",
                  file=sys.stderr)
        self.earlier = (typed, values)
        setattr(namespace, self.dest, values)


def main(argv: list[str] | None = None) -> int:
    """Every argument is checked before anything is read or written: a bad one exits with code 2 and
    ``error: ...`` (argparse's way)."""
    parser = argparse.ArgumentParser(description=study.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="run or sweep directories")
    parser.add_argument("--out", type=Path, action=LastOfTwice, help="where to write (default: the first DIR)")
    parser.add_argument("--metric", default="accuracy", choices=sorted(HIGHER_IS_BETTER), action=LastOfTwice)
    figures_help = "figures to draw (default: all the data supports; --figures with no name: no figure)"
    parser.add_argument("--figures", nargs="*", action=LastOfTwice, help=figures_help)
    args = parser.parse_args(argv)
    missing = [str(d) for d in args.dirs if not d.is_dir()]  # a dangling or looping link too
    if missing:
        parser.error(f"not a directory: {', '.join(missing)}")
    args.dirs = distinct_dirs(args.dirs)
    if args.out is not None and args.out not in args.dirs:  # a directory it reads is its results tree
        try:
            check_owned(args.out, f"--out {args.out}", owner="run's or report's", sweep=True)
        except RunDirectoryError as error:
            parser.error(str(error))
    for i, name in enumerate(args.figures or []):
        if name == "none":
            parser.error("--figures none: to draw no figure give --figures with no name")
        if name not in FIGURES:
            close = did_you_mean(name, FIGURES)
            parser.error(f"--figures {name} is not a figure{close}; available: {sorted(FIGURES)}")
        if name in args.figures[:i]:
            parser.error(f"--figures names {name} twice; give each figure once")
    collection = collect(args.dirs)
    if collection.runs.empty and not collection.failed and not collection.unfinished:
        parser.error(f"{' '.join(map(str, args.dirs))} holds no run (no result.json below it)")
    out = args.out or args.dirs[0]
    write_report(collection, out, metric=args.metric, figures=args.figures)
    n_ok = collection.runs["run"].nunique() if not collection.runs.empty else 0
    print(f"report: {n_ok} runs read, {len(collection.failed)} failed, {len(collection.unfinished)} unfinished -> {out}")
    for failure in collection.failed:
        print(f"  failed: {failure['run']}: {failure['error_type']}: {failure['message']}")
    for path in collection.unfinished:
        print(f"  unfinished: {path}")
    return 0


if __name__ == "__main__":
    skip_final_collection()
    sys.exit(main())
