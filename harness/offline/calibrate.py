"""Temperature scaling (Guo et al. 2017) fitted on the validation split."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def fit_temperature(logits: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature ``T`` that minimises the NLL of ``softmax(logits / T)`` on ``(logits, y)``.

    Searched on ``log T`` with scipy's bounded scalar minimiser.

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

    result = minimize_scalar(nll, bounds=np.log(bounds), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(result.x))
