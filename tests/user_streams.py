"""Streams a user might write, in a module of their own: the tests run them by ``stream._target_``."""

from __future__ import annotations

import numpy as np

from harness.streams import DeployData, OfflineData, Stream, deploy_data, split_offline
from harness.validation import validate


class Blobs(Stream):
    """Two Gaussian blobs ``distance`` apart along the first of ``n_features`` axes; a concept drift
    flips the label of each drifting sample with chance ``severity * flip``."""

    kinds = ("none", "concept")
    fixed = {"n_classes": 2}

    def __init__(self, schedule, *, n_features: int = 2, distance: float = 3.0, flip: float = 1.0,
                 n_offline: int = 600, n_deploy: int = 900, **common):
        super().__init__(schedule, n_offline=n_offline, n_deploy=n_deploy, **common)
        validate.integer("stream.n_features", n_features, 1)
        validate.number("stream.distance", distance, 0, low_open=True)
        validate.number("stream.flip", flip, 0, 1)
        self.n_features, self.distance, self.flip = n_features, distance, flip

    def _draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, size=n)
        x = rng.normal(size=(n, self.n_features))
        x[:, 0] += self.distance * (y - 0.5)
        return x, y

    def offline(self) -> OfflineData:
        x, y = self._draw(self.n_offline, self.rng(0))
        return split_offline(x, y, self.val_fraction)

    def deploy(self) -> DeployData:
        rng = self.rng(1)
        x, y = self._draw(self.n_deploy, rng)
        s = self.schedule
        flipped = rng.random(self.n_deploy) < s.amount(np.arange(self.n_deploy), rng) * s.severity * self.flip
        return deploy_data(s, x, np.where(flipped, 1 - y, y))


class CountsClasses(Blobs):
    """``n_classes`` as an argument instead of fixed (only 2 are drawn)."""

    fixed = {}

    def __init__(self, schedule, *, n_classes: int = 2, **rest):
        super().__init__(schedule, **rest)
        self.n_classes = n_classes


class NoClasses(Stream):
    """A stream that forgets to say how many classes it has."""

    def offline(self) -> OfflineData:
        raise NotImplementedError

    def deploy(self) -> DeployData:
        raise NotImplementedError


class UndeclaredPostDrift(Blobs):
    """Draws its post-drift concept but does not declare the tag ``post_drift``."""

    def post_drift(self) -> OfflineData:
        return self.offline()


class NoDeploy(Blobs):
    """A stream without its deployment data."""

    deploy = None


class NoFeatures(Blobs):
    """A stream whose constructor forgets ``n_features``."""

    def __init__(self, schedule, **rest):
        super().__init__(schedule, **rest)
        del self.n_features
