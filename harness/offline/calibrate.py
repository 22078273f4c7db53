"""Temperature scaling (Guo et al. 2017) fitted on the validation split."""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

log = logging.getLogger("harness")

BOUNDS = (1e-3, 1e3)  # the temperatures searched: wide, so that a temperature at a bound means a stuck fit
XATOL = 1e-6  # the optimiser's tolerance on log T
AT_BOUND = 1e-4  # |log T - log bound| within which a temperature counts as at that bound (100 x XATOL)


def fit_temperature(logits: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float] = BOUNDS) -> float:
    """The temperature ``T`` that minimises the NLL of ``softmax(logits / T)`` on ``(logits, y)``.

    Searched on ``log T`` in ``bounds`` with scipy's bounded scalar minimiser; a temperature at a
    bound (:func:`at_bound`) is logged as a warning: the NLL kept falling past the range searched
    (separable validation data drive ``T`` toward 0, labels unrelated to the logits toward infinity);
    when the NLL at a bound is no higher than the minimum found, that bound is the answer.

    >>> logits = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    >>> y = np.array([0, 0, 1, 1])   # 3 of 4 right: the right confidence is 0.75, not 0.98
    >>> T = fit_temperature(logits, y)
    >>> round(float(np.exp(4.0 / T) / (1 + np.exp(4.0 / T))), 3)
    0.75
    """
    logits = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=int)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return -log_softmax(logits / np.exp(log_t), axis=1)[rows, y].mean()

    result = minimize_scalar(nll, bounds=np.log(bounds), method="bounded", options={"xatol": XATOL})
    log_t = result.x
    for edge in np.log(bounds):  # an NLL flat down to a bound (0 in floating point) is no interior minimum
        if nll(edge) <= result.fun:
            log_t = edge
    temperature = float(np.exp(log_t))
    bound = at_bound(temperature, bounds)
    if bound is not None:
        log.warning("temperature scaling stuck: temperature %.6g is at the bound %g of the range searched "
                    "[%g, %g]; the validation NLL still falls beyond it", temperature, bound, *bounds)
    return temperature


def at_bound(temperature: float, bounds: tuple[float, float] = BOUNDS) -> float | None:
    """The bound of ``bounds`` that ``temperature`` sits at (within :data:`AT_BOUND` on log T), or None.

    >>> at_bound(0.0010000005), at_bound(1.0), at_bound(999.99)
    (0.001, None, 1000.0)
    """
    for bound in bounds:
        if abs(np.log(temperature) - np.log(bound)) <= AT_BOUND:
            return bound
    return None
