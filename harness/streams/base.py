"""What every stream shares: the drift schedule, the data it hands out, and input checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from harness.errors import ConfigError

PATTERNS = ("none", "sudden", "gradual")
PHASES = ("pre", "drift", "post")


@dataclass(frozen=True)
class DriftSchedule:
    """When and how strongly the deployment stream drifts.

    ``pattern="sudden"`` switches at ``onset`` (its width is 0 whatever was asked);
    ``pattern="gradual"`` draws each sample from the new concept with a chance rising linearly from 0
    at ``onset`` to 1 at ``onset + width``; ``pattern="none"`` never changes, but still marks the
    phases so that a no-drift control is summarised like every other run.
    """

    kind: str
    pattern: str
    severity: float
    onset: int
    width: int

    def __post_init__(self):
        if self.pattern == "sudden":
            object.__setattr__(self, "width", 0)

    def check(self, n_deploy: int, kinds: tuple[str, ...], family: str) -> None:
        """Raise ConfigError naming the key, the value and what is allowed."""
        if self.kind not in kinds:
            raise ConfigError(f"drift.kind={self.kind!r} is not one of {list(kinds)} (for stream={family})")
        if self.pattern not in PATTERNS:
            raise ConfigError(f"drift.pattern={self.pattern!r} is not one of {list(PATTERNS)}")
        if not 0.0 <= self.severity <= 1.0:
            raise ConfigError(f"drift.severity={self.severity} is outside [0, 1]")
        if not 0 <= self.onset < n_deploy:
            raise ConfigError(f"drift.onset={self.onset} is outside [0, stream.n_deploy={n_deploy})")
        if self.width < 0 or (self.pattern == "gradual" and self.width < 1):
            raise ConfigError(f"drift.width={self.width} must be >= 1 for a gradual drift (>= 0 otherwise)")
        if self.onset + self.width > n_deploy:
            raise ConfigError(
                f"drift.onset + drift.width = {self.onset + self.width} exceeds stream.n_deploy={n_deploy}"
            )

    def progress(self, t: np.ndarray) -> np.ndarray:
        """Share of the way from the old to the new concept at each time ``t``, in [0, 1]."""
        t = np.asarray(t)
        if self.pattern == "none" or self.severity == 0:
            return np.zeros(t.shape)
        if self.width == 0:
            return (t >= self.onset).astype(float)
        return np.clip((t - self.onset) / self.width, 0.0, 1.0)

    def phase(self, t: np.ndarray) -> np.ndarray:
        """``pre`` before onset, ``drift`` during ``[onset, onset + width)``, ``post`` afterwards."""
        t = np.asarray(t)
        return np.where(t < self.onset, "pre", np.where(t < self.onset + self.width, "drift", "post"))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OfflineData:
    """Stationary pre-deployment data: ``X_*`` float32 ``(n, d)``, ``y_*`` int64 ``(n,)``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


@dataclass(frozen=True)
class DeployData:
    """The deployment stream in time order, with its per-sample ground truth."""

    X: np.ndarray  # float32 (n, d)
    y: np.ndarray  # int64 (n,)
    t: np.ndarray  # int64 (n,), 0..n-1
    phase: np.ndarray  # str (n,)
    drift_progress: np.ndarray  # float (n,) in [0, 1]
    novel: np.ndarray  # bool (n,): drawn from a sub-population never seen offline

    def __len__(self) -> int:
        return len(self.y)


def check_positive(name: str, value, minimum=1) -> None:
    if value < minimum:
        raise ConfigError(f"{name}={value} must be >= {minimum}")
