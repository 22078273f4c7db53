"""Every family's data for a given config stays what it was: SHA-256 of the offline, deployment and
post-drift arrays, composed from ``conf/`` at each family's default sizes, against hashes recorded in
``tests/data/stream_pins.json`` by the code before the ``Stream`` base class (commit 30d32a5).

``python -m tests.test_stream_pins > tests/data/stream_pins.json`` rewrites the file: do it only when
a change of the data is intended, and say so in the commit."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.streams import FAMILIES, build_stream
from tests.conftest import compose_config

PINS = Path(__file__).parent / "data" / "stream_pins.json"
# Drift at about half the default deployment stream, gradual so that the ramp is pinned too.
DRIFT = {"phishing": (225, 100), "bananas": (1000, 500)}


def cases() -> list[tuple[str, str]]:
    return [(family, kind) for family in sorted(FAMILIES) for kind in FAMILIES[family].kinds if kind != "none"]


def overrides(family: str, kind: str) -> list[str]:
    onset, width = DRIFT.get(family, (3000, 1000))
    return [f"stream={family}", f"drift.kind={kind}", "drift.pattern=gradual", f"drift.onset={onset}",
            f"drift.width={width}", "drift.severity=0.8", "seed=3"]


def digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.astype(str).tobytes() if a.dtype.kind in "OU" else a.tobytes())
    return h.hexdigest()[:20]


def fingerprint(family: str, kind: str) -> dict:
    cfg = compose_config(overrides(family, kind), tiny=False)
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    off, dep = stream.offline(), stream.deploy()
    out = {
        "offline": digest(off.X_train, off.y_train, off.X_val, off.y_val),
        "deploy": digest(dep.X, dep.y, dep.t, dep.phase, dep.drift_progress, dep.novel),
        "describe": json.loads(json.dumps(stream.describe(), default=str)),
    }
    post = stream.post_drift() if hasattr(stream, "post_drift") else None
    if post is not None:
        out["post_drift"] = digest(post.X_train, post.y_train, post.X_val, post.y_val)
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("family", "kind"), cases())
def test_a_family_draws_the_data_it_drew_before_the_refactoring(family, kind):
    pinned = json.loads(PINS.read_text())[f"{family}/{kind}"]
    now = fingerprint(family, kind)
    for part in ("offline", "deploy", "post_drift"):
        assert now.get(part) == pinned.get(part), part
    described = now["describe"]
    changed = {key: (value, described.get(key)) for key, value in pinned["describe"].items() if described.get(key) != value}
    assert not changed, f"describe() lost or changed {changed}"


def test_the_pins_cover_every_family_and_kind():
    assert sorted(json.loads(PINS.read_text())) == sorted(f"{f}/{k}" for f, k in cases())


if __name__ == "__main__":
    json.dump({f"{f}/{k}": fingerprint(f, k) for f, k in cases()}, sys.stdout, indent=1, sort_keys=True)
    print()
