"""Everything checked and built before any compute: the keys against the schemas, every value, the
memory a run needs, the strategies from their config, and the command line (a bad value fails here,
with the key, the value and what is allowed).

:func:`build_checked` is the one entry: keys first (a misspelled key would otherwise be blamed on
its neighbours), then NaN and infinity anywhere, then the settings group by group, the stream and
its drift, the strategies, the memory, and last what depends on the stream's size.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Mapping

from hydra.errors import InstantiationException
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from harness.offline.models import standardizes
from harness.offline.user import check_model_settings, check_user_model
from harness.pipeline.footprint import check_memory
from harness.strategies.base import missing_members, missing_methods, tags
from harness.streams.build import build_stream
from harness.streams.families import CUSTOM, stream_class
from harness.streams.stream import config_keys, stream_tags
from harness.validation import validate
from harness.validation.config import (
    Config,
    DriftConf,
    MetricsConf,
    ModelConf,
    MonitorConf,
    OfflineConf,
    ReplayConf,
    SearchConf,
)
from harness.validation.errors import ConfigError
from harness.validation.settings import check_schema
from harness.validation.targets import check_targets

WRITE_TWO = "a subclass of harness.strategies.BaseStrategy needs only predict_proba and learn (docs/strategies.md)"
GROUPS = {
    "drift": DriftConf,
    "model": ModelConf,
    "offline": OfflineConf,
    "offline.search": SearchConf,
    "replay": ReplayConf,
    "metrics": MetricsConf,
    "monitor": MonitorConf,
}


def build_checked(cfg: DictConfig):
    """``(stream, strategies)`` of ``cfg`` once every key and value is checked; draws and trains nothing."""
    check_config(cfg)
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    strategies = build_strategies(cfg.strategy)
    check_inputs(cfg, stream, strategies)
    check_memory(cfg, stream, strategies)
    check_against_stream(cfg, stream)
    check_known_drift(cfg, stream, strategies)
    check_model(cfg, stream, strategies)
    return stream, strategies


# -- keys -----------------------------------------------------------------------------------------


def check_keys(cfg: DictConfig) -> None:
    """Every key is one of its schema's fields (a stream's: its constructor's arguments): ``+key=value``
    adds keys the schema never saw."""
    validate.known_keys("", cfg, [f.name for f in dataclasses.fields(Config)])
    cls = stream_class(cfg.stream)  # a user's stream class is imported and checked here
    allowed = ["family", *(["_target_"] if cfg.stream.family == CUSTOM else []), *config_keys(cls)]
    validate.known_keys("stream", cfg.stream, allowed, node=f"stream={cls.name()}")
    for where, schema in GROUPS.items():
        validate.known_keys(where, OmegaConf.select(cfg, where), [f.name for f in dataclasses.fields(schema)])


def resolved(cfg: DictConfig) -> dict:
    """``cfg`` as a plain tree with every interpolation resolved; ConfigError naming the key that cannot be
    (``~seed`` deletes what ``${seed}`` points at)."""
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "a value"
        raise ConfigError(f"{key} cannot be resolved: {str(error).splitlines()[0]}") from None


def check_finite(cfg: DictConfig) -> dict:
    """No NaN or infinity anywhere, strategies' arguments included; interpolations must resolve.
    Returns the resolved tree."""
    tree = resolved(cfg)
    for key, value in _leaves(tree):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}={value} is not a finite number")
    return tree


def _leaves(node, prefix: str = ""):
    """``(dotted key, value)`` of every leaf of a nested dict/list; list items as ``key[i]``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{prefix}[{i}]")
    else:
        yield prefix, node


# -- values ---------------------------------------------------------------------------------------


def check_config(cfg: DictConfig) -> dict:
    """Everything decided from the configuration alone, before anything is instantiated: the keys,
    finite values, every ``_target_`` by its slot, every value against its schema's type and rule.
    The command line, :func:`harness.compose` and every run call it; returns the resolved tree."""
    check_keys(cfg)
    tree = check_finite(cfg)
    check_targets(tree)
    check_settings(cfg, tree)
    return tree


def check_settings(cfg: DictConfig, tree: dict) -> None:
    """Each key against its schema (:mod:`harness.validation.settings`), then what ties keys together."""
    check_schema(tree)
    check_text_settings(cfg.model)
    check_model_settings(cfg.model)
    if cfg.model.kind == "text" and cfg.model.standardize:
        raise ConfigError("model.standardize=true is not allowed for model.kind='text': its inputs are token ids, "
                          "never standardised (null or false)")
    check_pipeline_settings(cfg)
    if cfg.offline.cache:
        validate.writable_directory("offline.cache_dir", cfg.offline.cache_dir, "(or offline.cache=false)")


def check_pipeline_settings(cfg: DictConfig) -> None:
    """A missing-value fault needs a network that imputes: the frozen pipeline's input scaler puts the
    offline training mean in place of a missing value, and a network without one would answer NaN."""
    drift = cfg.drift
    if drift.kind != "pipeline" or drift.fault is None:
        return
    faults = [drift.fault] if isinstance(drift.fault, str) else list(drift.fault)
    if "missing" in faults and not standardizes(cfg.model.kind, cfg.model.standardize):
        raise ConfigError(f"drift.fault={_plain_value(drift.fault)!r} leaves values missing, which the torch models "
                          f"impute with the offline means inside their input scaler; model.kind={cfg.model.kind!r} with "
                          f"model.standardize={cfg.model.standardize} has none: set model.standardize=true")


def _plain_value(value):
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def check_text_settings(model) -> None:
    """``model.vocab`` is read by ``model=text`` only."""
    if model.kind != "text" and model.vocab != "closed":
        raise ConfigError(f"model.vocab={model.vocab!r} is only read by model=text (model.kind={model.kind!r})")


def check_against_stream(cfg: DictConfig, stream) -> None:
    """The ranges that depend on the stream: its length and its number of classes."""
    n = stream.n_deploy
    validate.integer("replay.label_delay", cfg.replay.label_delay, 0, n - 1, bounds=f"[0, stream.n_deploy={n})")
    validate.integer("metrics.window", cfg.metrics.window, 1, n, bounds=f"[1, stream.n_deploy={n}]")
    for name, node in cfg.strategy.items():
        if "n_classes" in node and node.n_classes != stream.n_classes:
            raise ConfigError(
                f"strategy.{name}.n_classes={node.n_classes} differs from the stream's {stream.n_classes} classes"
            )


def check_inputs(cfg: DictConfig, stream, strategies: dict) -> None:
    """The model and every strategy read what the stream's rows are (its tag ``inputs``): token ids
    (``stream=prompts``) only ``model=text``, a user's ``model=pretrained`` and the River text learners;
    numeric features every other model and River learner. An id's value means nothing, so a learner
    that computes with it would measure noise; a text model on numbers would read them as ids."""
    inputs = stream_tags(stream).inputs
    family = cfg.stream.family
    kind = cfg.model.kind
    if inputs == "tokens" and kind in ("mlp", "logistic"):
        raise ConfigError(f"model.kind={kind!r} would compute with the token ids of stream={family}, whose values "
                          "mean nothing; a token stream needs model=text (or model=pretrained, a model of your own "
                          "that reads token ids)")
    if inputs != "tokens" and kind == "text":
        raise ConfigError(f"model.kind='text' reads rows of token ids, but stream={family} gives numeric features; "
                          "model=text needs a token stream (stream=prompts), other streams model=mlp or "
                          "model=logistic")
    for name, strategy in strategies.items():
        reads = tags(strategy).reads
        if reads is not None and reads != inputs:
            allowed = "river_text_nb, river_text_logreg" if inputs == "tokens" else "river_logreg, river_ht, ..."
            raise ConfigError(f"strategy {name} reads {_INPUTS[reads]}, but stream={family} gives {_INPUTS[inputs]}; "
                              f"drop it (River learners allowed on stream={family}: {allowed})")


_INPUTS = {"tokens": "token ids", "features": "numeric features"}


def check_known_drift(cfg: DictConfig, stream, strategies: dict) -> None:
    """The bounds (``oracle``, ``oracle_switch``) train on the stream's post-drift concept: refuse a
    stream that cannot generate it (a user's table) or whose drift has no single post-drift concept."""
    bounds = [name for name, strategy in strategies.items() if tags(strategy).needs_known_drift]
    if not bounds:
        return
    if not stream_tags(stream).post_drift:
        raise ConfigError(f"strategy {bounds[0]} needs the post-drift concept, which stream={cfg.stream.family} "
                          "cannot generate (a table of real data); drop it or choose a generated stream "
                          "(teacher, gaussian_classes or a River family)")
    if cfg.drift.pattern == "recurring":
        raise ConfigError(f"strategy {bounds[0]} needs one post-drift concept, but drift.pattern=recurring "
                          "switches back and forth; use it with sudden, gradual, incremental or none")


def check_model(cfg: DictConfig, stream, strategies: dict) -> None:
    """``model=pretrained``: the model loads, maps the stream's ``(n, d)`` to ``(n, K)`` (a forward
    pass on a few seeded rows) and can give each strategy what it trains from: trainable weights
    (``needs_from_model = "weights"``) or a factory for fresh networks (``"factory"``)."""
    if cfg.model.kind != "pretrained":
        return
    user = check_user_model(cfg.model, stream, family=cfg.stream.family, seed=cfg.seed)
    for name, strategy in strategies.items():
        needs = tags(strategy).needs_from_model
        if needs == "factory" and user.factory is None:
            raise ConfigError(f"strategy {name} trains fresh networks of the model's architecture, which the "
                              f"torch.export program {user.source} cannot build; give model._target_ (a factory) "
                              "with model.weights, or drop the strategy")
        if needs is not None and not user.trainable:
            raise ConfigError(f"strategy {name} trains the model's weights, but {user.source} has no floating-point "
                              "parameters (exported with its weights as constants?); drop the strategy")


# -- strategies -----------------------------------------------------------------------------------


def build_strategies(strategy_cfg: DictConfig) -> dict:
    """Instantiate every configured strategy once its class is known to implement the protocol and
    its arguments are the constructor's: nothing is built from a class that is not a strategy."""
    if not strategy_cfg:
        raise ConfigError("strategy=[] is empty; choose at least one, e.g. strategy=[frozen,river_logreg]")
    strategies = {}
    for name, node in strategy_cfg.items():
        cls = strategy_class(name, node.get("_target_") if isinstance(node, DictConfig) else None)
        allowed = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
        for key in node:
            if not str(key).startswith("_") and key not in allowed:
                close = validate.did_you_mean(key, allowed)
                raise ConfigError(
                    f"strategy.{name}.{key} is not an argument of {node._target_}{close}; allowed: {allowed}"
                )
        try:
            strategies[name] = instantiate(node)
        except InstantiationException as error:
            raise _construction_error(name, allowed, error.__cause__ or error) from None
        except Exception as error:
            raise _construction_error(name, allowed, error) from None
        missing = missing_members(strategies[name])
        if missing:
            raise ConfigError(f"strategy.{name}._target_={node._target_!r} lacks the strategy protocol's {missing}; "
                              f"{WRITE_TWO}")
    return strategies


def strategy_class(name: str, target) -> type:
    """The class ``strategy.<name>._target_`` names, once imported and known to implement the strategy
    protocol (its methods); nothing of it is called."""
    if target is None:
        raise ConfigError(f"strategy.{name} has no _target_ (a class implementing the strategy protocol)")
    try:
        cls = get_object(target)
    except Exception as error:
        raise ConfigError(f"strategy.{name}._target_={target!r} cannot be imported: {error}") from None
    if not isinstance(cls, type):
        raise ConfigError(f"strategy.{name}._target_={target!r} is not a class implementing the strategy protocol")
    missing = missing_methods(cls)
    if missing:
        raise ConfigError(f"strategy.{name}._target_={target!r} lacks the strategy protocol's {missing}; {WRITE_TWO}")
    try:
        tags(cls)  # its declared capabilities: an unknown tag or one still set as a plain attribute is refused
    except ConfigError as error:
        raise ConfigError(f"strategy.{name}._target_={target!r}: {error}") from None
    return cls


def _construction_error(name: str, allowed: list[str], error: BaseException) -> ConfigError:
    """A constructor's ValueError that starts with one of its arguments (``lr=-1 must be > 0``) names
    ``strategy.<name>.<argument>``; anything else says the strategy could not be built and why."""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, ValueError) and message.split("=", 1)[0] in allowed:
        return ConfigError(f"strategy.{name}.{message}")
    return ConfigError(f"strategy.{name} could not be built: {message}")
