"""The River-backed families, one small class each: how to make the old and the new concept.

See :mod:`harness.streams.river_base` for how the concepts become a drifting stream. Defaults pick
concept pairs whose labels disagree on a large share of inputs (measured: SEA variants 2 and 3 about
20%, Agrawal functions 0 and 2 about 53%, STAGGER 0 and 1 about 59%, Sine 0 and 2 about 27%, Mixed 0
and 1 all of them, since Mixed's second function is the first one reversed).
"""

from __future__ import annotations

from river.datasets import synth

from harness import validate
from harness.streams.base import check_count, check_fraction, check_positive
from harness.streams.river_base import RiverStream


def _check_concept(family: str, concept: int, drift_concept: int, n: int) -> None:
    for key, value in (("concept", concept), ("drift_concept", drift_concept)):
        validate.choice(f"stream.{key}", value, range(n))


class _Switching(RiverStream):
    """A family whose concepts are numbered functions: ``concept`` offline, ``drift_concept`` after."""

    n_concepts = 0
    concept_key = "classification_function"
    river_class = None

    def check_params(self, *, concept: int, drift_concept: int, **extra) -> None:
        _check_concept(self.family, concept, drift_concept, self.n_concepts)

    def generator(self, *, new: bool):
        params = dict(self.params)
        old, new_concept = params.pop("concept"), params.pop("drift_concept")
        concept = new_concept if new else old
        return self.river_class(**{self.concept_key: concept}, seed=self.seed, **params)


class SEAStream(_Switching):
    family, n_classes, n_concepts, concept_key, river_class = "sea", 2, 4, "variant", synth.SEA

    def check_params(self, *, noise: float, **rest) -> None:
        super().check_params(**rest)
        check_fraction("stream.noise", noise, open_low=False)


class AgrawalStream(_Switching):
    family, n_classes, n_concepts, river_class = "agrawal", 2, 10, synth.Agrawal

    def check_params(self, *, perturbation: float, **rest) -> None:
        super().check_params(**rest)
        check_fraction("stream.perturbation", perturbation, open_low=False, open_high=False)


class STAGGERStream(_Switching):
    family, n_classes, n_concepts, river_class = "stagger", 2, 3, synth.STAGGER


class SineStream(_Switching):
    family, n_classes, n_concepts, river_class = "sine", 2, 4, synth.Sine


class MixedStream(_Switching):
    family, n_classes, n_concepts, river_class = "mixed", 2, 2, synth.Mixed


class LEDStream(RiverStream):
    """LED digits with 17 irrelevant attributes; the new concept swaps ``n_drift_features`` relevant
    attributes with irrelevant ones (River's ``LEDDrift``)."""

    family, n_classes = "led", 10

    def check_params(self, *, noise_percentage: float, n_drift_features: int) -> None:
        check_fraction("stream.noise_percentage", noise_percentage, open_low=False)
        validate.integer("stream.n_drift_features", n_drift_features, 1, 7)

    def generator(self, *, new: bool):
        return synth.LEDDrift(
            seed=self.seed,
            noise_percentage=self.params["noise_percentage"],
            irrelevant_features=True,
            n_drift_features=self.params["n_drift_features"] if new else 0,
        )

    def drift_units(self) -> dict:
        s = self.schedule
        return {"share_on_new_concept": s.severity, **self.params} if s.kind == "concept" else {}


class HyperplaneStream(RiverStream):
    """A rotating hyperplane: ``n_drift_features`` weights grow by ``severity * drift_magnitude``."""

    family, n_classes, moving, moves_after_sample = "hyperplane", 2, "mag_change", True
    patterns = (*RiverStream.patterns, "incremental")

    def check_params(self, *, n_features: int, n_drift_features: int, noise_percentage: float,
                     drift_magnitude: float) -> None:  # fmt: skip
        check_count("stream.n_features", n_features, 2)
        validate.integer("stream.n_drift_features", n_drift_features, 1, n_features, bounds="[1, stream.n_features]")
        check_fraction("stream.noise_percentage", noise_percentage, open_low=False)
        check_positive("stream.drift_magnitude", drift_magnitude, 0)

    def generator(self, *, new: bool):
        p = self.params
        return synth.Hyperplane(seed=self.seed, n_features=p["n_features"], n_drift_features=p["n_drift_features"],
                                mag_change=0.0, noise_percentage=p["noise_percentage"], sigma=0.0)  # fmt: skip


class RandomRBFDriftStream(RiverStream):
    """Gaussian blobs labelled by centroid; the ``n_drift_centroids`` first centroids move
    ``severity * drift_magnitude`` (unit-cube units) along their own random directions."""

    family, moving = "random_rbf", "change_speed"
    patterns = (*RiverStream.patterns, "incremental")

    def __init__(self, schedule, *, n_classes: int = 2, **rest):
        check_count("stream.n_classes", n_classes, 2)
        self.n_classes = n_classes
        super().__init__(schedule, n_classes=n_classes, **rest)

    def check_params(self, *, n_features: int, n_centroids: int, n_drift_centroids: int,
                     drift_magnitude: float) -> None:  # fmt: skip
        check_count("stream.n_features", n_features, 2)
        check_count("stream.n_centroids", n_centroids, 1)
        within = "[1, stream.n_centroids]"
        validate.integer("stream.n_drift_centroids", n_drift_centroids, 1, n_centroids, bounds=within)
        check_positive("stream.drift_magnitude", drift_magnitude, 0)

    def generator(self, *, new: bool):
        p = self.params
        return synth.RandomRBFDrift(seed_model=self.seed, seed_sample=self.seed + 1, n_classes=self.n_classes,
                                    n_features=p["n_features"], n_centroids=p["n_centroids"], change_speed=0.0,
                                    n_drift_centroids=p["n_drift_centroids"])  # fmt: skip

    def describe(self) -> dict:
        return {**super().describe(), "n_classes": self.n_classes}
