"""The label side of monitoring: what the label-free outputs are worth once the truth is known.

Kept apart from :mod:`harness.monitor.watch` on purpose: only this module reads deployment labels,
to measure the realised accuracy beside each estimate, the AUROC of each score for the frozen
model's mistakes, and its selective risk. Alarms are scored against the known drift schedule with
:func:`harness.scores.detection.detection_scores`, and their rates named for what they are
(:func:`alarm_rates`): a false-alarm rate where no drift is known, a power only after a known drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.monitor.ranking import rank_score
from harness.monitor.watch import LabelFree
from harness.scores.detection import detection_scores, schedule_drifts
from harness.streams.base import PHASES, DeployData, DriftSchedule


@dataclass(frozen=True)
class Scored:
    """The four monitoring tables of one strategy, and its ``result.json`` summary."""

    estimates: pd.DataFrame
    alarms: pd.DataFrame
    novelty: pd.DataFrame
    risk_coverage: pd.DataFrame
    summary: dict


def alarm_onsets(alarm: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Times ``t`` of the windows that alarm when the window before did not: a shift that persists
    alarms once, not once per window.

    >>> alarm_onsets(np.array([False, True, True, False, True]), np.array([9, 19, 29, 39, 49]))
    array([19, 49])
    """
    alarm = np.asarray(alarm, dtype=bool)
    starts = alarm & ~np.concatenate([[False], alarm[:-1]])
    return np.asarray(t)[starts]


def drifting(schedule: DriftSchedule, n_deploy: int) -> bool:
    """Whether the stream has a known drift: a generated drift of some kind, pattern and severity > 0,
    or declared change points of real data. Not for ``kind=none``, ``pattern=none``, severity 0 or
    the unknown drift of real data.

    >>> drifting(DriftSchedule("covariate", "sudden", 0.0, 10, 0), 100)
    False
    """
    if not schedule.known or schedule.kind == "none" or schedule.severity == 0:
        return False
    return bool(schedule.change_points(n_deploy))


def alarm_rates(t_start: np.ndarray, t_end: np.ndarray, alarm: np.ndarray, schedule: DriftSchedule,
                n_deploy: int) -> dict[str, float]:
    """``false_alarm_rate``: share of alarming windows where no drift is known (every window when the
    stream does not drift, else the windows wholly before the onset, ``t_end <= onset``); and, only on
    a drifting stream, ``power``: share of alarming windows wholly after the onset (``t_start >=
    onset``). A window that straddles the onset counts in neither. NaN when there is no such window.

    >>> alarm_rates(np.array([0, 10, 20]), np.array([10, 20, 30]), np.array([False, True, True]),
    ...             DriftSchedule("covariate", "sudden", 1.0, 15, 0), 30)
    {'false_alarm_rate': 0.0, 'power': 1.0}
    """
    alarm = np.asarray(alarm, dtype=bool)

    def share(inside: np.ndarray) -> float:
        return float(alarm[inside].mean()) if inside.any() else float("nan")

    if not drifting(schedule, n_deploy):
        return {"false_alarm_rate": share(np.ones(len(alarm), dtype=bool))}
    onset = schedule.onset
    return {"false_alarm_rate": share(np.asarray(t_end) <= onset), "power": share(np.asarray(t_start) >= onset)}


def _phase_masks(phase: np.ndarray) -> dict[str, np.ndarray | None]:
    """Each phase present as a boolean mask (1 byte a sample), and ``all`` as ``None``: every sample."""
    masks = {name: phase == name for name in PHASES}
    masks = {name: mask for name, mask in masks.items() if mask.any()}
    return {**masks, "all": None} if len(phase) else {}


def score(
    strategy: str,
    watched: LabelFree,
    data: DeployData,
    schedule: DriftSchedule,
    *,
    tau: float,
    coverages,
    max_delay: int,
) -> Scored:
    """Score one strategy's label-free monitoring against ``data``'s labels and ``schedule``."""
    error = watched.predicted != data.y  # bool: 1 byte a sample on a long stream
    confident_error = error & (watched.confidence >= tau)

    estimated = watched.estimates.copy()
    estimated.insert(0, "strategy", strategy)
    estimated["phase"] = data.phase[estimated["t_end"].to_numpy() - 1]
    estimated["realised_accuracy"] = [1.0 - error[a:b].mean() for a, b in zip(estimated.t_start, estimated.t_end)]
    estimated = estimated[
        ["strategy", "t_start", "t_end", "phase", "estimator", "estimated_accuracy", "realised_accuracy"]
    ]

    alarms = watched.alarms.copy()
    alarms.insert(0, "strategy", strategy)
    alarms["phase"] = data.phase[alarms["t"].to_numpy()]

    masks = _phase_masks(data.phase)
    targets = {"novel": np.asarray(data.novel, dtype=bool), "mistake": error}
    novelty_rows, risk_rows = [], []
    for name, values in watched.scores.items():
        ranked = rank_score(values, masks, targets, error, confident_error, coverages)
        for phase in masks:
            for target in targets:
                n_pos, n_neg = ranked.counts[phase][target]
                novelty_rows.append(
                    {"strategy": strategy, "score": name, "target": target, "phase": phase,
                     "auroc": ranked.auroc[phase][target], "n_pos": n_pos, "n_neg": n_neg}
                )
            for coverage in coverages:
                risk, confident = ranked.risk[phase][float(coverage)]
                risk_rows.append(
                    {"strategy": strategy, "score": name, "coverage": float(coverage),
                     "error_rate": risk, "confident_error_rate": confident, "phase": phase}
                )

    drifts = schedule_drifts(schedule, len(data))
    detectors = {}
    for detector, rows in alarms.groupby("detector", sort=False):
        scores = detection_scores(alarm_onsets(rows.alarm.to_numpy(), rows.t.to_numpy()), drifts, max_delay=max_delay)
        scores.update(alarm_rates(rows.t_start.to_numpy(), rows.t_end.to_numpy(), rows.alarm.to_numpy(), schedule,
                                  len(data)))
        detectors[detector] = scores
    estimators = {}
    for estimator, rows in estimated.groupby("estimator", sort=False):
        absolute = (rows.estimated_accuracy - rows.realised_accuracy).abs()
        phases = PHASES if schedule.known else ()
        estimators[estimator] = {f"mae_{phase}": float(absolute[rows.phase == phase].mean()) for phase in phases}
        estimators[estimator]["mae_all"] = float(absolute.mean())
    return Scored(
        estimates=estimated.reset_index(drop=True),
        alarms=alarms.drop(columns="phase"),
        novelty=pd.DataFrame(novelty_rows),
        risk_coverage=pd.DataFrame(risk_rows),
        summary={"detectors": detectors, "estimators": estimators},
    )
