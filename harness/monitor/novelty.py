"""Per-sample novelty scores from the frozen model, oriented so that higher means "less certain,
more likely novel or wrong", and how well they rank.

- ``msp``: one minus the max softmax probability (Hendrycks and Gimpel, ICLR 2017);
- ``energy``: ``-logsumexp(logits)`` on the raw logits (Liu et al., NeurIPS 2020);
- ``mahalanobis``: the smallest squared Mahalanobis distance of the penultimate-layer features to
  a class mean, with one covariance shared by the classes, fitted offline (Lee et al., NeurIPS 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from harness.offline.outputs import Outputs


@dataclass(frozen=True)
class ClassGaussians:
    """Class means ``(K, h)`` and the shared precision matrix ``(h, h)`` of penultimate features."""

    means: np.ndarray
    precision: np.ndarray


def fit_class_gaussians(features: np.ndarray, y: np.ndarray, n_classes: int, ridge: float = 1e-6) -> ClassGaussians:
    """Class-conditional Gaussians with a tied covariance fitted on offline ``features`` ``(n, h)``
    and labels ``y``; ``ridge`` times the mean variance is added to the diagonal so that dead ReLU
    units do not make the covariance singular. A class absent offline gets the overall mean."""
    overall = features.mean(axis=0)
    means = np.stack([features[y == k].mean(axis=0) if np.any(y == k) else overall for k in range(n_classes)])
    centred = features - means[y]
    covariance = centred.T @ centred / max(1, len(y) - 1)
    covariance += np.eye(len(covariance)) * ridge * max(float(np.trace(covariance)) / len(covariance), 1e-12)
    return ClassGaussians(means, np.linalg.pinv(covariance, hermitian=True))


def msp(outputs: Outputs) -> np.ndarray:
    """``(n,)`` one minus the max probability.

    >>> msp(Outputs(np.array([[0.9, 0.1], [0.5, 0.5]]), np.zeros((2, 2)), np.zeros((2, 1))))
    array([0.1, 0.5])
    """
    return 1.0 - outputs.proba.max(axis=1)


def energy(outputs: Outputs) -> np.ndarray:
    """``(n,)`` the free energy ``-logsumexp(logits)``: low on inputs like the training data.

    >>> energy(Outputs(np.zeros((1, 2)), np.log(np.array([[1.0, 3.0]])), np.zeros((1, 1)))).round(6)
    array([-1.386294])
    """
    return -torch.logsumexp(torch.as_tensor(outputs.logits), dim=1).numpy()


def mahalanobis(outputs: Outputs, gaussians: ClassGaussians, rows: int = 8192) -> np.ndarray:
    """``(n,)`` the smallest squared Mahalanobis distance to a class mean, ``rows`` samples and one
    class at a time: each step is one matrix product (BLAS; a three-operand einsum loops in C
    instead, several times slower, and the two differ by round-off, about 1e-14 relative) and its
    temporaries are ``rows x h`` floats, not ``n x K x h``.

    >>> g = ClassGaussians(np.array([[0.0], [10.0]]), np.array([[0.25]]))
    >>> mahalanobis(Outputs(np.zeros((2, 2)), np.zeros((2, 2)), np.array([[1.0], [6.0]])), g)
    array([0.25, 4.  ])
    """
    features = outputs.features
    smallest = np.full(len(features), np.inf)
    for start in range(0, len(features), rows):
        block = features[start:start + rows]
        for mean in gaussians.means:
            diff = block - mean
            distance = ((diff @ gaussians.precision) * diff).sum(axis=1)
            np.minimum(smallest[start:start + rows], distance, out=smallest[start:start + rows])
    return smallest


def auroc_score(scores: np.ndarray, positive: np.ndarray) -> float:
    """Chance that a positive sample scores higher than a negative one (ties count half), from the
    Mann-Whitney U statistic; NaN when either group is empty.

    >>> auroc_score(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    0.75
    """
    positive = np.asarray(positive, dtype=bool)
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    return float(stats.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)))


def risk_coverage(
    scores: np.ndarray, error: np.ndarray, confident_error: np.ndarray, coverage: float
) -> tuple[float, float]:
    """Selective risk when the model answers only the ``coverage`` share of samples with the lowest
    scores (at least one) and abstains on the rest: the error rate and the confident-error rate among
    the answered samples. Ties are broken by time order (stable sort).

    >>> risk_coverage(np.array([0.1, 0.9, 0.2, 0.8]), np.array([0, 1, 0, 0]), np.array([0, 1, 0, 0]), 0.5)
    (0.0, 0.0)
    """
    keep = np.argsort(scores, kind="stable")[: max(1, int(round(coverage * len(scores))))]
    return float(np.mean(error[keep])), float(np.mean(confident_error[keep]))
