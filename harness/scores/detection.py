"""Scoring a drift detector's detections against the known drift schedule, as MOA and CapyMOA do.

A drift occupies ``[start, end]`` in stream time (``start = onset``, ``end = onset + width``; a
sudden drift has ``start == end``). A detection at ``t`` is *true* when it lies in a drift's
acceptance window ``[start, end + max_delay]`` (cut short at the next drift's start), a *false
alarm* otherwise; a drift with no detection in its window is *missed*; the *detection delay* of a
detected drift is its first detection's ``t - start``. Unlike CapyMOA, detections before ``start``
never count as true: the schedule is known exactly here, so no tolerance before onset is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.streams.base import DriftSchedule


def schedule_drifts(schedule: DriftSchedule, n_deploy: int) -> list[tuple[int, int]] | None:
    """The ``(start, end)`` drift intervals of ``schedule``, one per change of concept (every switch
    of a recurring drift); none for a no-drift control; None when the drift is unknown (real data
    without declared change points), so that detections are counted but not scored.

    >>> schedule_drifts(DriftSchedule("concept", "recurring", 1.0, 10, 0, period=20), 60)
    [(10, 10), (30, 30), (50, 50)]
    """
    if not schedule.known:
        return None
    if schedule.severity == 0:
        return []
    return [(start, start + schedule.width) for start in schedule.change_points(n_deploy)]


def detection_scores(detections: Sequence[int], drifts: Sequence[tuple[int, int]] | None, *, max_delay: int) -> dict:
    """Counts and mean delay of ``detections`` (stream times) against ``drifts`` (sorted intervals);
    with ``drifts=None`` (the drift is unknown) only the detections are counted, the rest is None.

    >>> detection_scores([100, 520, 560, 1900], [(500, 600)], max_delay=1000)
    {'n_drifts': 1, 'n_detections': 4, 'true_detections': 2, 'false_alarms': 2, 'missed_drifts': 0, 'mean_detection_delay': 20.0}
    >>> detection_scores([], [(500, 500)], max_delay=100)["missed_drifts"]
    1
    >>> detection_scores([10, 20], [], max_delay=100)["false_alarms"]
    2
    >>> detection_scores([10, 20], None, max_delay=100)["false_alarms"] is None
    True
    """
    if max_delay < 0:
        raise ValueError(f"max_delay={max_delay} must be >= 0")
    t = np.sort(np.asarray(detections, dtype=int))
    if drifts is None:
        unscored = ("n_drifts", "true_detections", "false_alarms", "missed_drifts", "mean_detection_delay")
        return {**dict.fromkeys(unscored), "n_detections": len(t)}
    true = np.zeros(len(t), dtype=bool)
    delays = []
    for index, (start, end) in enumerate(drifts):
        stop = end + max_delay
        if index + 1 < len(drifts):
            stop = min(stop, drifts[index + 1][0] - 1)
        inside = (t >= start) & (t <= stop)
        true |= inside
        if inside.any():
            delays.append(int(t[inside][0]) - start)
    return {
        "n_drifts": len(drifts),
        "n_detections": len(t),
        "true_detections": int(true.sum()),
        "false_alarms": int((~true).sum()),
        "missed_drifts": len(drifts) - len(delays),
        "mean_detection_delay": float(np.mean(delays)) if delays else float("nan"),
    }
