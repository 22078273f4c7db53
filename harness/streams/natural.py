"""The drift of real data: not generated, so not known, unless the user declares where it changes.

A table replays rows as they were recorded; whatever drift they hold is theirs (natural drift), and
the harness cannot know its kind, size or timing. :class:`NaturalDrift` stands where a generated
stream's :class:`~harness.streams.base.DriftSchedule` stands, with the same members, and says only
what is known:

- no change points (``known`` is False): every deployment sample is in phase ``unknown``; the run
  reports whole-stream and windowed metrics, no pre/post phases, no drift-induced error, and drift
  detections are counted but not scored;
- declared change points ``[t1, t2, ...]`` (deployment indices): phases as for a sudden drift at
  ``t1`` (``pre`` before it, ``post`` from it on), and detections scored against every ``t_i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.validation import validate

UNKNOWN = "unknown"


@dataclass(frozen=True)
class NaturalDrift:
    """Change points ``points`` (sorted deployment indices, possibly none) of a stream of real data.

    >>> NaturalDrift((3, 5)).phase(np.arange(6)).tolist()
    ['pre', 'pre', 'pre', 'post', 'post', 'post']
    >>> NaturalDrift().phase(np.arange(2)).tolist()
    ['unknown', 'unknown']
    >>> NaturalDrift((3, 5)).progress(np.arange(7)).tolist()
    [0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    """

    points: tuple[int, ...] = ()
    kind = "natural"
    width = 0
    period = 0
    transition = "sudden"
    severity = None  # not a number: the size of a natural drift is not known

    @property
    def known(self) -> bool:
        return bool(self.points)

    @property
    def pattern(self) -> str:
        return "declared" if self.points else UNKNOWN

    @property
    def onset(self) -> int | None:
        """The first declared change point; None when the drift is unknown."""
        return self.points[0] if self.points else None

    def check(self, n_deploy: int) -> None:
        """Each change point is a deployment index in ``[1, n_deploy)``, increasing (what
        :class:`~harness.streams.stream.Stream` asks of every schedule); raise ConfigError naming it.

        >>> NaturalDrift((300, 200)).check(1000)
        Traceback (most recent call last):
        harness.validation.errors.ConfigError: stream.change_points[1]=200 is outside [301, stream.n_deploy=1000) (deployment indices, increasing)
        """
        for i, point in enumerate(self.points):
            low = self.points[i - 1] + 1 if i else 1
            validate.integer(f"stream.change_points[{i}]", point, low, n_deploy - 1,
                             bounds=f"[{low}, stream.n_deploy={n_deploy}) (deployment indices, increasing)")

    def change_points(self, n_deploy: int | None = None) -> list[int]:
        return list(self.points)

    def phase(self, t) -> np.ndarray:
        """``pre`` before the first change point, ``post`` from it on; ``unknown`` without one."""
        t = np.asarray(t)
        if not self.points:
            return np.full(t.shape, UNKNOWN)
        return np.where(t < self.points[0], "pre", "post")

    def progress(self, t) -> np.ndarray:
        """Share of the declared change points passed at ``t`` (a step per point); NaN when unknown."""
        t = np.asarray(t)
        if not self.points:
            return np.full(t.shape, np.nan)
        return np.searchsorted(np.asarray(self.points), t, side="right") / len(self.points)

    def as_dict(self, n_deploy: int | None = None) -> dict:
        return {
            "kind": self.kind,
            "pattern": self.pattern,
            "severity": self.severity,
            "onset": self.onset,
            "width": self.width,
            "period": self.period,
            "transition": self.transition,
            "change_points": list(self.points),
            "known": self.known,
        }
