"""Values the command line gives Hydra's own config (``hydra.*``), checked against Hydra's schema
(:class:`hydra.conf.HydraConf`) before Hydra reads them: Hydra sets up its logging, its output
directory and the job from them before any check of the harness runs, and stops on a value of the wrong
type with a traceback (``hydra.job_logging=${now:%H}``, ``hydra.job.env_set=x``, ``hydra.verbose=[a,1]``).
An interpolation is judged by what it resolves to; one that needs what Hydra sets once the job runs
(``${hydra:runtime.output_dir}``) is left to Hydra."""

from __future__ import annotations

from hydra.conf import HydraConf
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException, ValidationError

from harness.validation import config
from harness.validation.errors import ConfigError


def hydra_overrides(overrides: list[str]) -> list[tuple[str, str, object]]:
    """``(text, key, value)`` of each override that sets one value of Hydra's config (a sweep of one
    Hydra refuses itself), the value as Hydra parses it."""
    parser, found = OverridesParser.create(), []
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception:
            continue  # Hydra reports its own syntax errors
        if override.key_or_group.startswith("hydra.") and not override.is_delete() and not override.is_sweep_override():
            found.append((text, override.key_or_group, override.value()))
    return found


def check_hydra_values(overrides: list[str]) -> None:
    """Each ``hydra.*`` value of ``overrides`` resolves and is of the type Hydra's schema gives its key;
    ``hydra.verbose`` is a boolean, a logger's name or a list of names (Hydra's schema says ``Any``). The
    config is composed only to resolve an interpolation."""
    given = hydra_overrides(overrides)
    if not given:
        return
    schema = OmegaConf.structured(HydraConf)
    interpolated = [(text, key) for text, key, _ in given if "${" in text and "${hydra:" not in text]
    for text, key, value in given:
        if "${" not in text:
            check_typed(text, key.removeprefix("hydra."), value, schema)
    if not interpolated:
        return  # ${hydra:...}: Hydra's runtime values are set once the job runs
    try:
        cfg = config.compose_config(overrides, with_hydra=True)
    except Exception:
        return  # what does not compose, Hydra names
    for text, key in interpolated:
        try:
            value = OmegaConf.select(cfg, key, throw_on_resolution_failure=True)
            if isinstance(value, (DictConfig, ListConfig)):
                value = OmegaConf.to_container(value, resolve=True)
        except MissingMandatoryValue:
            continue  # a value Hydra sets once the job runs
        except OmegaConfBaseException as error:
            raise ConfigError(f"{text} cannot be resolved: {str(error).splitlines()[0]}") from None
        check_typed(text, key.removeprefix("hydra."), value, schema)


def check_typed(text: str, path: str, value, schema: DictConfig) -> None:
    """``value`` (resolved) fits ``path`` of Hydra's ``schema``.

    >>> check_typed("hydra.job_logging=${now:%H}", "job_logging", "21", OmegaConf.structured(HydraConf))
    Traceback (most recent call last):
    harness.validation.errors.ConfigError: hydra.job_logging=${now:%H} gives '21', which Hydra cannot take: Cannot assign str to Dict[str, Any]
    """
    if path == "verbose":
        if not (isinstance(value, (bool, str)) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            raise ConfigError(f"{text} gives {value!r}: hydra.verbose is true, false, a logger's name or a list of "
                              "names (hydra.verbose=[__main__,hydra])")
        return
    try:
        OmegaConf.update(schema, path, value, merge=True)
    except ValidationError as error:
        raise ConfigError(f"{text} gives {value!r}, which Hydra cannot take: {str(error).splitlines()[0]}") from None
    except OmegaConfBaseException:
        return  # a key Hydra's schema leaves open (inside its logging configs): Hydra judges it
