"""A stream's constructor is the one source of its parameters: the config composed from ``conf/``
holds exactly the constructor's defaults, ``conf/stream/*.yaml`` repeats none of them, and
``describe()`` lists every argument."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from harness.streams import FAMILIES, DriftSchedule, Stream, build_stream
from harness.streams.weather import rainfall_csv
from tests.conftest import compose_config
from tests.test_stream_pins import digest
from tests.user_streams import Blobs, CountsClasses

CONF = Path(__file__).resolve().parents[1] / "conf" / "stream"
CONTROL = {"kind": "none", "pattern": "none", "severity": 0.0, "onset": 0, "width": 0}
# stream=table has no default file: the weather data's CSV, as a user's table (its first column, the day
# index, is the order column: an index is refused as a feature).
REQUIRED = {"table": {"path": str(rainfall_csv()), "target": "rain", "order": "Unnamed: 0"}}  # its day index


def arguments(cls) -> dict[str, object]:
    """Keyword arguments of ``cls``'s constructor and of every base constructor its ``**common``
    reaches, with the default the most derived one gives (read here without the harness's helper)."""
    found = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(vars(klass)["__init__"]).parameters.values())[1:]
        for p in params:
            if p.kind is p.KEYWORD_ONLY and p.name not in found:
                found[p.name] = p.default
        if klass is Stream or params[-1].kind is not inspect.Parameter.VAR_KEYWORD:
            break
    return found


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_composed_config_is_the_constructors_defaults(family):
    node = OmegaConf.to_container(compose_config([f"stream={family}"], tiny=False).stream)
    assert node.pop("family") == family
    cls = FAMILIES[family]
    defaults = {name: value for name, value in arguments(cls).items() if name != "seed"}
    read = {name: value for name, value in cls.from_data.items() if value is not None}  # ${table_classes:}, ...
    assert node == {**defaults, **cls.fixed, **read}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_stream_built_from_python_defaults_equals_the_one_built_from_conf(family):
    """What `python -m harness.run stream=<family>` draws is what `Family(schedule)` draws."""
    required = REQUIRED.get(family, {})
    overrides = [f"stream.{key}={value}" for key, value in required.items()]
    cfg = compose_config([f"stream={family}", "drift=none", "drift.onset=0", *overrides], tiny=False)
    from_conf = build_stream(cfg.stream, cfg.drift, cfg.seed)
    from_python = FAMILIES[family](DriftSchedule(**CONTROL), seed=cfg.seed, **required)
    assert from_conf.describe() == from_python.describe()
    if family not in ("agrawal", "random_rbf"):  # River's two slow generators: describe() says enough
        offline = [from_conf.offline(), from_python.offline()]
        assert digest(offline[0].X_train, offline[0].y_val) == digest(offline[1].X_train, offline[1].y_val)


@pytest.mark.parametrize("path", sorted(CONF.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_stream_yaml_files_extend_their_schema_and_set_no_value(path):
    # no stream.* value; a short stream (phishing, bananas) may set only its default drift onset
    data = yaml.safe_load(path.read_text())
    assert set(data) <= {"defaults", "drift"} and set(data.get("drift", {})) <= {"onset"}


@pytest.mark.parametrize("cls", [*FAMILIES.values(), Blobs, CountsClasses], ids=lambda c: c.__name__)
def test_describe_lists_every_constructor_argument_with_its_value(cls):
    required = REQUIRED.get(cls.family, {})
    stream = cls(DriftSchedule(**CONTROL), **required)
    described = stream.describe()
    for name, default in {**arguments(cls), **required}.items():
        assert name in described, name
        if name in cls.from_data:  # None: read from the data, and described as read
            assert default is None and described[name] is not None, name
        elif default is not inspect.Parameter.empty:
            assert described[name] == default, name
    assert {"n_features", "n_classes", "schedule"} <= set(described)

