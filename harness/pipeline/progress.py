"""Progress of the long stages: a bar on a terminal, one plain line per finished stage otherwise.

Output sent to a file (a SLURM log, ``> run.log``) would otherwise hold every redraw of a bar
(carriage returns, cursor movements) and the results table glued to the last one."""

from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm


def interactive() -> bool:
    """True when stderr is a terminal: only then are bars drawn."""
    return sys.stderr.isatty()


def say(line: str) -> None:
    """One whole line on stderr, flushed: the plain-text progress of a non-terminal."""
    print(line, file=sys.stderr, flush=True)


class Progress:
    """Counts ``unit``s over named stages (``stage(name)`` ... ``update(k)`` ... ``end_stage()``).
    On a terminal a tqdm bar (cleared when closed); elsewhere a line per finished stage, e.g.
    ``replay frozen: 8000 samples in 0.8 s``. ``enabled=False`` prints nothing."""

    def __init__(self, total: int, unit: str, *, enabled: bool = True) -> None:
        self.enabled, self.unit = enabled, unit
        self.tty = enabled and interactive()
        self.bar = tqdm(total=total, unit=unit, disable=not self.tty, leave=False, mininterval=0.5)
        self.name, self.count, self.start = "", 0, time.perf_counter()

    def stage(self, name: str) -> None:
        self.name, self.count, self.start = name, 0, time.perf_counter()
        self.bar.set_description(name)

    def update(self, k: int) -> None:
        self.count += k
        self.bar.update(k)

    def end_stage(self) -> None:
        if self.enabled and not self.tty:
            say(f"{self.name}: {self.count} {self.unit}s in {time.perf_counter() - self.start:.1f} s")

    def close(self) -> None:
        self.bar.close()
