"""The River-backed families, one small class each: how to make the old and the new concept.

See :mod:`harness.streams.river_base` for how the concepts become a drifting stream. Defaults pick
concept pairs whose labels disagree on a large share of inputs (measured: SEA variants 2 and 3 about
20%, Agrawal functions 0 and 2 about 53%, STAGGER 0 and 1 about 59%, Sine 0 and 2 about 27%, Mixed 0
and 1 all of them, since Mixed's second function is the first one reversed).
"""

from __future__ import annotations

from harness.streams.base import DriftSchedule, check_count, check_fraction, check_positive
from harness.streams.river_base import RiverStream
from harness.validation import validate


def synth(name: str):
    """The generator class ``river.datasets.synth.<name>``, imported when a stream is drawn: importing
    ``river.datasets`` pulls in scikit-learn and SQLAlchemy (seconds), which no config check needs."""
    from river.datasets import synth as generators

    return getattr(generators, name)

class _Switching(RiverStream):
    """A family whose concepts are numbered functions: ``concept`` offline, ``drift_concept`` after.
    River's generator takes the concept as ``concept_key`` and the family's ``river_keys`` as they are."""

    n_concepts = 0
    concept_key = "classification_function"
    river_keys: tuple[str, ...] = ()
    river_class = None  # the name of the generator in river.datasets.synth

    def __init__(self, schedule: DriftSchedule, *, concept: int, drift_concept: int, **common):
        for key, value in (("concept", concept), ("drift_concept", drift_concept)):
            validate.choice(f"stream.{key}", value, range(self.n_concepts))
        self.concept, self.drift_concept = concept, drift_concept
        super().__init__(schedule, **common)

    def generator(self, *, new: bool):
        params = {key: getattr(self, key) for key in self.river_keys}
        concept = self.drift_concept if new else self.concept
        return synth(self.river_class)(**{self.concept_key: concept}, seed=self.seed, **params)


class SEAStream(_Switching):
    family, n_concepts, concept_key, river_class, river_keys = "sea", 4, "variant", "SEA", ("noise",)

    def __init__(self, schedule: DriftSchedule, *, concept: int = 2, drift_concept: int = 3, noise: float = 0.0,
                 **common):
        check_fraction("stream.noise", noise, open_low=False)
        self.noise = noise
        super().__init__(schedule, concept=concept, drift_concept=drift_concept, **common)


class AgrawalStream(_Switching):
    family, n_concepts, river_class = "agrawal", 10, "Agrawal"
    river_keys = ("perturbation", "balance_classes")

    def __init__(self, schedule: DriftSchedule, *, concept: int = 0, drift_concept: int = 2,
                 perturbation: float = 0.0, balance_classes: bool = False, **common):
        check_fraction("stream.perturbation", perturbation, open_low=False, open_high=False)
        self.perturbation, self.balance_classes = perturbation, balance_classes
        super().__init__(schedule, concept=concept, drift_concept=drift_concept, **common)


class STAGGERStream(_Switching):
    family, n_concepts, river_class, river_keys = "stagger", 3, "STAGGER", ("balance_classes",)

    def __init__(self, schedule: DriftSchedule, *, concept: int = 0, drift_concept: int = 1,
                 balance_classes: bool = False, **common):
        self.balance_classes = balance_classes
        super().__init__(schedule, concept=concept, drift_concept=drift_concept, **common)


class SineStream(_Switching):
    family, n_concepts, river_class, river_keys = "sine", 4, "Sine", ("has_noise", "balance_classes")

    def __init__(self, schedule: DriftSchedule, *, concept: int = 0, drift_concept: int = 2,
                 has_noise: bool = False, balance_classes: bool = False, **common):
        self.has_noise, self.balance_classes = has_noise, balance_classes
        super().__init__(schedule, concept=concept, drift_concept=drift_concept, **common)


class MixedStream(_Switching):
    family, n_concepts, river_class, river_keys = "mixed", 2, "Mixed", ("balance_classes",)

    def __init__(self, schedule: DriftSchedule, *, concept: int = 0, drift_concept: int = 1,
                 balance_classes: bool = False, **common):
        self.balance_classes = balance_classes
        super().__init__(schedule, concept=concept, drift_concept=drift_concept, **common)


class LEDStream(RiverStream):
    """LED digits with 17 irrelevant attributes; the new concept swaps ``n_drift_features`` relevant
    attributes with irrelevant ones (River's ``LEDDrift``)."""

    family, fixed = "led", {"n_classes": 10}

    def __init__(self, schedule: DriftSchedule, *, noise_percentage: float = 0.1, n_drift_features: int = 7,
                 **common):
        check_fraction("stream.noise_percentage", noise_percentage, open_low=False)
        validate.integer("stream.n_drift_features", n_drift_features, 1, 7)
        self.noise_percentage, self.n_drift_features = noise_percentage, n_drift_features
        super().__init__(schedule, **common)

    def generator(self, *, new: bool):
        return synth("LEDDrift")(
            seed=self.seed,
            noise_percentage=self.noise_percentage,
            irrelevant_features=True,
            n_drift_features=self.n_drift_features if new else 0,
        )

    def drift_units(self) -> dict:
        s = self.schedule
        if s.kind != "concept":
            return {}
        return {"share_on_new_concept": s.severity, "noise_percentage": self.noise_percentage,
                "n_drift_features": self.n_drift_features}


class HyperplaneStream(RiverStream):
    """A rotating hyperplane: ``n_drift_features`` weights grow by ``severity * drift_magnitude``."""

    family, moving, moves_after_sample = "hyperplane", "mag_change", True
    patterns = (*RiverStream.patterns, "incremental")

    def __init__(self, schedule: DriftSchedule, *, n_features: int = 10, n_drift_features: int = 2,
                 noise_percentage: float = 0.05, drift_magnitude: float = 5.0, **common):
        check_count("stream.n_features", n_features, 2)
        validate.integer("stream.n_drift_features", n_drift_features, 1, n_features, bounds="[1, stream.n_features]")
        check_fraction("stream.noise_percentage", noise_percentage, open_low=False)
        check_positive("stream.drift_magnitude", drift_magnitude, 0)
        self.n_drift_features, self.noise_percentage = n_drift_features, noise_percentage
        self.drift_magnitude = drift_magnitude
        self.n_features = n_features
        super().__init__(schedule, **common)

    def generator(self, *, new: bool):
        return synth("Hyperplane")(seed=self.seed, n_features=self.n_features, n_drift_features=self.n_drift_features,
                                mag_change=0.0, noise_percentage=self.noise_percentage, sigma=0.0)


class RandomRBFDriftStream(RiverStream):
    """Gaussian blobs labelled by centroid; the ``n_drift_centroids`` first centroids move
    ``severity * drift_magnitude`` (unit-cube units) along their own random directions."""

    family, moving, fixed = "random_rbf", "change_speed", {}
    patterns = (*RiverStream.patterns, "incremental")

    def __init__(self, schedule: DriftSchedule, *, n_classes: int = 2, n_features: int = 10, n_centroids: int = 50,
                 n_drift_centroids: int = 50, drift_magnitude: float = 1.0, **common):
        check_count("stream.n_classes", n_classes, 2)
        check_count("stream.n_features", n_features, 2)
        check_count("stream.n_centroids", n_centroids, 1)
        within = "[1, stream.n_centroids]"
        validate.integer("stream.n_drift_centroids", n_drift_centroids, 1, n_centroids, bounds=within)
        check_positive("stream.drift_magnitude", drift_magnitude, 0)
        self.n_classes, self.n_features, self.n_centroids = n_classes, n_features, n_centroids
        self.n_drift_centroids, self.drift_magnitude = n_drift_centroids, drift_magnitude
        super().__init__(schedule, **common)

    def generator(self, *, new: bool):
        return synth("RandomRBFDrift")(seed_model=self.seed, seed_sample=self.seed + 1, n_classes=self.n_classes,
                                    n_features=self.n_features, n_centroids=self.n_centroids, change_speed=0.0,
                                    n_drift_centroids=self.n_drift_centroids)
