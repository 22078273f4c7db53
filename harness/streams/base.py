"""The data types every stream works with: the drift schedule (``DriftSchedule``), the data it hands
out (``OfflineData``, ``KnownDrift``, ``DeployData``) and the checks of their sizes; no class to
subclass (the ``Stream`` base class and its tags are in :mod:`harness.streams.stream`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from harness.validation import validate
from harness.validation.errors import ConfigError

KINDS = ("none", "covariate", "concept", "label", "novel", "pipeline")  # pipeline: harness.streams.faults
PATTERNS = ("none", "sudden", "gradual", "incremental", "recurring")
TRANSITIONS = ("sudden", "gradual")
PHASES = ("pre", "drift", "post")
INPUTS = ("features", "tokens")  # what a row of X is (the streams' tag inputs)


@dataclass(frozen=True)
class DriftSchedule:
    """When and how strongly the deployment stream drifts.

    ``progress(t)`` in [0, 1] is how far sample ``t`` is from the old concept (0) toward the new one (1):

    - ``sudden``: 0 before ``onset``, 1 from ``onset`` on (its width is 0 whatever was asked);
    - ``gradual``: rises linearly over ``[onset, onset + width)``; each sample is drawn from the new
      concept with that chance (see :meth:`amount`);
    - ``incremental``: rises the same way, but every sample is drawn from a concept moved exactly
      ``progress`` of the way (the generating parameters move continuously);
    - ``recurring``: from ``onset`` on, switches to the new concept, back to the old one ``period``
      samples later, and so on; each switch is sudden or, with ``transition="gradual"``, a linear ramp
      over ``width`` samples (probabilistic mixing, as in ``gradual``);
    - ``none``: 0 everywhere, but the phases are still marked (pre before ``onset``, post from it on;
      width 0) so that a control is summarised alike.

    ``severity`` scales the change itself (each family says in what units); severity 0 gives
    progress 0, a deployment distribution equal to the offline one. Phases are those of the first
    drift: ``pre`` before ``onset``, ``drift`` over ``[onset, onset + width)``, ``post`` afterwards.
    """

    kind: str
    pattern: str
    severity: float
    onset: int
    width: int
    period: int = 0
    transition: str = "sudden"

    def __post_init__(self):
        from harness.validation.config import DriftConf  # the rules of the drift.* keys (harness.validation.settings)
        from harness.validation.settings import check_schema

        check_schema(asdict(self), DriftConf, "drift.")  # onset's range depends on the stream: see check()
        no_ramp = self.pattern in ("sudden", "none") or (self.pattern == "recurring" and self.transition == "sudden")
        if no_ramp:
            object.__setattr__(self, "width", 0)

    def check(self, n_deploy: int) -> None:
        """Raise ConfigError naming the key, the value and what is allowed; each key on its own was
        checked when the schedule was made, what depends on the stream's length is checked here
        (which kinds and patterns a stream supports: :meth:`harness.streams.Stream.check_support`)."""
        if not 0 <= self.onset < n_deploy:
            raise ConfigError(f"drift.onset={self.onset} is outside [0, stream.n_deploy={n_deploy})")
        ramps = self.pattern in ("gradual", "incremental") or (
            self.pattern == "recurring" and self.transition == "gradual"
        )
        if ramps and self.width < 1:
            raise ConfigError(
                f"drift.width={self.width} must be >= 1 for a gradual, incremental or gradually recurring "
                "drift (>= 0 otherwise)"
            )
        if self.onset + self.width > n_deploy:
            raise ConfigError(
                f"drift.onset + drift.width = {self.onset + self.width} exceeds stream.n_deploy={n_deploy}"
            )
        if self.pattern == "recurring":
            if self.period < max(1, self.width):
                raise ConfigError(
                    f"drift.period={self.period} must be >= max(1, drift.width={self.width}) for a recurring drift"
                )
            if self.onset + self.period >= n_deploy:
                raise ConfigError(
                    f"drift.onset + drift.period = {self.onset + self.period} must be < stream.n_deploy={n_deploy} "
                    "so that the old concept recurs at least once"
                )

    @property
    def known(self) -> bool:
        """A generated stream's drift is known exactly (a table's may not be: see streams.natural)."""
        return True

    def change_points(self, n_deploy: int) -> list[int]:
        """Times at which a change of concept starts: ``[onset]``, or every switch of a recurring drift.

        >>> DriftSchedule("concept", "recurring", 1.0, 10, 0, period=20).change_points(60)
        [10, 30, 50]
        """
        if self.pattern == "none":
            return []
        if self.pattern == "recurring":
            return list(range(self.onset, n_deploy, self.period))
        return [self.onset]

    def progress(self, t: np.ndarray) -> np.ndarray:
        """Share of the way from the old to the new concept at each time ``t``, in [0, 1].

        >>> DriftSchedule("concept", "recurring", 1.0, 2, 2, period=4, transition="gradual").progress(range(12))
        array([0. , 0. , 0. , 0.5, 1. , 1. , 1. , 0.5, 0. , 0. , 0. , 0.5])
        """
        t = np.asarray(t)
        if self.pattern == "none" or self.severity == 0:
            return np.zeros(t.shape)
        since = t - self.onset
        if self.pattern == "recurring":
            switches, since = np.divmod(np.maximum(since, 0), self.period)
            ramp = np.ones(t.shape) if self.width == 0 else np.clip(since / self.width, 0.0, 1.0)
            return np.where(t < self.onset, 0.0, np.where(switches % 2 == 0, ramp, 1.0 - ramp))
        if self.width == 0:
            return (since >= 0).astype(float)
        return np.clip(since / self.width, 0.0, 1.0)

    def amount(self, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """How much of the new concept each sample is drawn from, in [0, 1]: ``progress`` itself for an
        incremental drift, otherwise 1 with chance ``progress`` and 0 else. Always draws ``len(t)``
        uniforms from ``rng`` so that runs differing only in their schedule share their other draws."""
        progress = self.progress(t)
        uniform = rng.random(progress.shape)
        return progress if self.pattern == "incremental" else (uniform < progress).astype(float)

    def phase(self, t: np.ndarray) -> np.ndarray:
        """``pre`` before onset, ``drift`` during ``[onset, onset + width)``, ``post`` afterwards."""
        t = np.asarray(t)
        return np.array(PHASES)[(t >= self.onset).astype(np.intp) + (t >= self.onset + self.width)]

    def as_dict(self, n_deploy: int | None = None) -> dict:
        """The schedule's fields, plus every change point when the stream length is given."""
        out = asdict(self)
        if n_deploy is not None:
            out["change_points"] = self.change_points(n_deploy)
        return out


@dataclass(frozen=True)
class OfflineData:
    """Stationary pre-deployment data: ``X_*`` ``(n, d)`` in the source's float dtype (float64 from a
    file or a River generator, float32 from a stream that generates float32 itself; River learners
    get exactly these values, torch models cast to float32 inside), ``y_*`` int64 ``(n,)``.

    ``known_drift`` is ``None`` for every strategy but the bounds (``needs_known_drift = True``),
    to which the run hands what no deployed model could know: the concept after the drift and when
    it starts (see :class:`KnownDrift`).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    known_drift: KnownDrift | None = None


@dataclass(frozen=True)
class KnownDrift:
    """The drift as the stream knows it: ``post`` = offline-size data of the concept after the
    drift (the stream's ``post_drift()``), ``onset`` = the deployment time it starts at."""

    post: OfflineData
    onset: int


@dataclass(frozen=True)
class DeployData:
    """The deployment stream in time order, with its per-sample ground truth."""

    X: np.ndarray  # (n, d), the source's float dtype (see OfflineData)
    y: np.ndarray  # int64 (n,)
    t: np.ndarray  # int64 (n,), 0..n-1
    phase: np.ndarray  # str (n,)
    drift_progress: np.ndarray  # float (n,) in [0, 1]
    novel: np.ndarray  # bool (n,): drawn from a sub-population never seen offline
    faults: np.ndarray | None = None  # bool (n, d): values a pipeline fault touched (drift.kind=pipeline only)

    def __len__(self) -> int:
        return len(self.y)


def check_positive(name: str, value, minimum=1) -> None:
    """``value`` is a finite number ``>= minimum``."""
    validate.number(name, value, minimum)


def check_count(name: str, value, minimum: int = 1) -> None:
    """``value`` is an integer ``>= minimum`` (a size or a count)."""
    validate.integer(name, value, minimum)


def check_fraction(name: str, value, low: float = 0.0, high: float = 1.0, *, open_low=True, open_high=True) -> None:
    """``value`` must lie in the interval from ``low`` to ``high`` (open or closed ends)."""
    validate.number(name, value, low, high, low_open=open_low, high_open=open_high)


def check_sizes(n_offline: int, val_fraction: float, n_deploy: int) -> None:
    """The sizes every generated stream shares: at least 10 offline samples, a validation share in
    (0, 1), at least one deployment sample."""
    check_count("stream.n_offline", n_offline, 10)
    check_fraction("stream.val_fraction", val_fraction)
    check_count("stream.n_deploy", n_deploy, 1)


def features(x) -> np.ndarray:
    """``x`` as a float array of its own precision: float32 and float64 stay as they are (no value is
    rounded), anything else (integers, Python floats) becomes float64.

    >>> features(np.ones(2, dtype=np.float32)).dtype, features([1, 2]).dtype
    (dtype('float32'), dtype('float64'))
    """
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def split_offline(x: np.ndarray, y: np.ndarray, val_fraction: float) -> OfflineData:
    """The last ``val_fraction`` of ``(x, y)`` is validation, the rest training; features keep their
    float dtype (:func:`features`), labels int64."""
    n_val = max(1, int(round(len(y) * val_fraction)))
    n_train = len(y) - n_val
    x = features(x)
    y = np.asarray(y, dtype=np.int64)
    return OfflineData(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def deploy_data(schedule: DriftSchedule, x: np.ndarray, y: np.ndarray, novel: np.ndarray | None = None) -> DeployData:
    """Package a deployment stream of ``len(y)`` samples with its schedule's ground truth."""
    t = np.arange(len(y))
    return DeployData(
        X=features(x),
        y=np.asarray(y, dtype=np.int64),
        t=t,
        phase=schedule.phase(t),
        drift_progress=schedule.progress(t),
        novel=np.zeros(len(y), dtype=bool) if novel is None else np.asarray(novel, dtype=bool),
    )
