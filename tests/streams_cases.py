"""Small stream cases shared by the stream tests: every family with its schema's defaults, shrunk."""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache

from harness.streams import FAMILIES, build_stream
from harness.streams.base import PATTERNS
from harness.streams.schemas import SCHEMAS

N_OFFLINE, N_DEPLOY, ONSET, WIDTH, PERIOD = 300, 600, 200, 100, 200
# Phishing's 1,250 rows, none used twice, fill 150 + 600 samples under every kind only with a region
# of half the data that the offline sample keeps more of.
REAL_SMALL = {"phishing": {"n_offline": 150, "quantile": 0.5, "offline_keep": 0.6}}


def drift(kind: str, pattern: str = "sudden", severity: float = 1.0, **rest) -> dict:
    base = {"kind": kind, "pattern": pattern, "severity": severity, "onset": ONSET, "width": WIDTH,
            "period": PERIOD, "transition": "gradual" if pattern == "recurring" else "sudden"}  # fmt: skip
    return {**base, **rest}


def stream_params(family: str, **overrides) -> dict:
    params = asdict(SCHEMAS[family]())
    params.update({"n_offline": N_OFFLINE, "n_deploy": N_DEPLOY, **REAL_SMALL.get(family, {})})
    params.update(overrides)
    return params


def make(family: str, kind: str, pattern: str = "sudden", *, seed: int = 0, severity: float = 1.0, stream=None,
         drift_overrides=None):  # fmt: skip
    """A stream of ``family``; ``stream`` and ``drift_overrides`` are dicts of changed keys."""
    params = stream_params(family, **(stream or {}))
    return build_stream(params, drift(kind, pattern, severity, **(drift_overrides or {})), seed)


@lru_cache(maxsize=None)
def data(family: str, kind: str, pattern: str = "sudden", seed: int = 0, severity: float = 1.0):
    """``(stream, offline, deploy)`` of a small case, drawn once per test session."""
    stream = make(family, kind, pattern, seed=seed, severity=severity)
    return stream, stream.offline(), stream.deploy()


def patterns_of(family: str) -> tuple[str, ...]:
    return getattr(FAMILIES[family], "patterns", PATTERNS)


CASES = [
    (family, kind, pattern)
    for family, cls in FAMILIES.items()
    for kind in cls.kinds
    for pattern in patterns_of(family)
]
