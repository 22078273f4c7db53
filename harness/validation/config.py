"""Typed schemas of the configuration, registered in Hydra's ConfigStore.

``conf/config.yaml`` starts from ``base_config`` (the ``Config`` dataclass below), so every group
merges onto a typed node: a misspelled key or a value of the wrong type fails at composition and
names the key. Ranges and choices are checked by the builders, before any compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from harness.offline.cache_location import offline_cache_dir
from harness.streams import schemas


def conf_dir() -> Path:
    """The directory of ``config.yaml`` and its groups: ``harness/conf`` in an installed wheel (the
    repository's ``conf/`` ships there, see ``pyproject.toml``), the repository's ``conf/`` in a
    source checkout or an editable install."""
    package = Path(__file__).resolve().parents[1]  # harness/
    candidates = (package / "conf", package.parent / "conf")
    for candidate in candidates:
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no config.yaml in {' or '.join(map(str, candidates))}: the installation is incomplete")


CONF_DIR = conf_dir()


def group_names() -> list[str]:
    """The config groups of ``conf/`` that a ``name=choice`` override selects; Hydra's own are named
    with a ``/`` (``hydra/launcher``)."""
    return sorted(path.name for path in CONF_DIR.iterdir() if path.is_dir() and path.name != "hydra")


def group_options(group: str) -> list[str]:
    """The options of one of :func:`group_names`, as ``group=<option>`` names them."""
    return sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))


def optional_groups() -> set[str]:
    """The groups ``conf/config.yaml``'s defaults list leaves empty (``experiment: null``)."""
    defaults = OmegaConf.load(CONF_DIR / "config.yaml").defaults
    return {group for item in defaults if isinstance(item, DictConfig) for group, option in item.items()
            if option is None}


@dataclass
class DriftConf:
    kind: str = "concept"
    pattern: str = "sudden"
    severity: float = 1.0
    onset: int = 3000
    width: int = 1000
    period: int = 0  # recurring drift: samples between switches of concept
    transition: str = "sudden"  # recurring drift: sudden or gradual (over `width`) switches
    # kind=pipeline only (harness/streams/faults.py): one fault or a list, applied in order
    fault: Any = None
    features: Optional[List[Any]] = None  # indices or names; null: the default rule of harness/streams/faults.py


@dataclass
class ModelConf:
    kind: str = "mlp"  # mlp, logistic or text (searched and trained offline), or pretrained (yours: docs/pretrained.md)
    depth: int = 2
    vocab: str = "closed"  # model=text: closed (the offline tokens, others <unk>) or hashed (buckets)
    buckets: int = 1024  # model=text model.vocab=hashed: number of hashed embedding rows
    # inputs standardised with the offline training split's mean/std, a layer of the frozen network:
    # null = true for the harness's own numeric models, false for model=pretrained; never for model=text
    standardize: Optional[bool] = None
    # model=pretrained only: a torch.export program, or a factory (no arguments) and its state dict
    path: Optional[str] = None
    _target_: Optional[str] = None
    weights: Optional[str] = None
    outputs: str = "logits"  # what the model returns: logits or probs
    trusted: bool = False  # model.path only: load a program with pickled or executable entries (docs/security.md)
    # model=pretrained: how it is trained after deployment (finetune with lr=null, the retraining strategies)
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0


@dataclass
class SearchConf:
    lr: List[float] = field(default_factory=lambda: [1e-3, 3e-3, 1e-2])
    batch_size: List[int] = field(default_factory=lambda: [32, 128])
    weight_decay: List[float] = field(default_factory=lambda: [0.0, 1e-4])
    width: List[int] = field(default_factory=lambda: [32, 64, 128])


@dataclass
class OfflineConf:
    n_trials: int = 6
    sampler: str = "random"  # random (distinct grid points) or tpe (Optuna's TPE with pruning)
    pruner: str = "median"  # tpe only: median, successive_halving or none
    max_epochs: int = 60
    patience: int = 5
    calibrate: bool = True
    search: SearchConf = field(default_factory=SearchConf)
    cache: bool = True  # reuse the pre-deployment outcome of identical offline data and settings
    # $HARNESS_OFFLINE_CACHE, else results/offline_cache in the repository's checkout, else the user
    # cache directory (harness/offline/cache_location.py)
    cache_dir: str = "${offline_cache_dir:}"


@dataclass
class ReplayConf:
    label_delay: int = 0
    label_fraction: float = 1.0
    serve_batch: int = 1  # requests per predict call when measuring latency; 0: one call per step block
    chunk: int = 100000  # rows per parquet row group; a longer stream keeps its outputs on disk; changes no number
    latency_requests: int = 100000  # on a longer stream, latency measured on this many requests; 0: all


@dataclass
class MetricsConf:
    confidence_threshold: float = 0.9
    window: int = 400
    recovery_tolerance: float = 0.02
    max_detection_delay: int = 1000


@dataclass
class MonitorConf:
    """Label-free monitoring of the frozen model (see docs/monitoring.md)."""

    enabled: bool = True
    strategies: Optional[List[str]] = None  # null: every strategy serving the frozen network itself
    window: Optional[int] = None  # null: metrics.window
    alpha: float = 0.01
    detectors: List[str] = field(default_factory=lambda: ["ks_inputs", "mmd_inputs", "bbsd", "confidence",
                                                          "missing_rate", "out_of_range", "constant_run"])
    estimators: List[str] = field(default_factory=lambda: ["cbpe", "mean_confidence", "atc", "doc"])
    scores: List[str] = field(default_factory=lambda: ["msp", "energy", "mahalanobis"])
    coverages: List[float] = field(default_factory=lambda: [0.5, 0.8, 0.9, 1.0])
    n_permutations: int = 100  # MMD permutation test
    mmd_reference: int = 500  # validation samples each MMD window is compared with


@dataclass
class Config:
    seed: int = 0
    save_stream: bool = False
    quiet: bool = False
    rerun: bool = False  # redo a job whose result.json says it finished
    threads: int = 1
    figures: Optional[bool] = None  # per-run figures; None: drawn by single runs, not by sweep jobs
    # typed by the selected conf/stream/<family>.yaml, which extends its schema (derived from the family's
    # constructor in harness/streams/schemas.py); stream=custom: a user's Stream class, checked before any compute
    stream: Any = MISSING
    drift: DriftConf = field(default_factory=DriftConf)
    model: ModelConf = field(default_factory=ModelConf)
    offline: OfflineConf = field(default_factory=OfflineConf)
    replay: ReplayConf = field(default_factory=ReplayConf)
    metrics: MetricsConf = field(default_factory=MetricsConf)
    monitor: MonitorConf = field(default_factory=MonitorConf)
    # name -> {_target_: ..., constructor arguments}; checked against the target's signature
    strategy: Dict[str, Any] = field(default_factory=dict)


def register() -> None:
    """Store the schemas and register the resolvers the config needs; a no-op when this process's
    store and resolvers already hold them (storing the schemas again costs more than a fifth of a
    composition, and ``harness.compose`` calls this before each one)."""
    import harness.pipeline.sweep  # noqa: F401  registers the ${job_dir:...} resolver of conf/config.yaml
    import hydra_plugins.harness_grid_sweeper.grid_sweeper  # noqa: F401  stores hydra/sweeper=grid

    cs = ConfigStore.instance()
    if (isinstance(cs.repo, _SharedStore) and {"base_config.yaml", "schema"} <= cs.repo.keys()
            and OmegaConf.has_resolver("offline_cache_dir") and OmegaConf.has_resolver("stream_default")):
        return
    OmegaConf.register_new_resolver("offline_cache_dir", offline_cache_dir, replace=True)
    cs.store(name="base_config", node=Config)
    schemas.register(cs)
    cs.repo = _SharedStore(cs.repo)


def compose_config(overrides: list[str], *, with_hydra: bool = False) -> DictConfig:
    """``conf/config.yaml`` with ``overrides`` as Hydra composes it, with no check of the harness's
    (``with_hydra``: Hydra's own node kept)."""
    register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=with_hydra)


# Hydra deep-copies the whole ConfigStore for every composition and for every group that ``--help``
# lists (about a hundred copies): the harness's typed schemas, then Hydra's own (its HydraConf, its
# launchers' and sweepers'), were most of each copy. Nothing changes a stored node (``store``
# replaces it), and ``ConfigStore.load`` copies a node before handing it out, so every copy of the
# store may share its contents, nodes stored later by Hydra's plugins included.
class _SharedStore(dict):
    def __deepcopy__(self, memo: dict) -> _SharedStore:
        return self
