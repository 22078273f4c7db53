"""The grid sweeper (``hydra/sweeper=grid``, the harness's default) launches the jobs Hydra's basic
sweeper launches, in its order and batches, composes each job's config once, and still refuses a bad
value before any job starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import CompactHydraException, HydraException
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_plugins.harness_grid_sweeper.grid_sweeper import check_sweep_size, grid_values, sweep_size
from tests import preloaded
from tests.conftest import compose_with_hydra

ROOT = Path(__file__).resolve().parents[1]
# An app that knows nothing of the harness (Hydra finds the sweeper in the hydra_plugins package);
# each job appends its index and overrides to a file.
APP = '''
import os

import hydra
from hydra.core.hydra_config import HydraConfig

@hydra.main(version_base="1.3", config_path=".", config_name="app")
def main(cfg):
    job = HydraConfig.get().job
    with open(os.environ["JOBS"], "a") as f:
        f.write(f"{job.num} {' '.join(HydraConfig.get().overrides.task)}\\n")

main()
'''
CONFIG = "defaults:\n  - shape: round\n  - _self_\na: 0\nb: 0\nc: 0\nhydra:\n  job:\n    chdir: false\n"


def sweep(tmp_path: Path, name: str, *overrides: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the app's sweep: the process, and the lines its jobs wrote (index, overrides)."""
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "app.yaml").write_text(CONFIG)
    (tmp_path / "shape").mkdir(exist_ok=True)
    for shape in ("round", "square"):
        (tmp_path / "shape" / f"{shape}.yaml").write_text(f"corners: {4 if shape == 'square' else 0}\n")
    jobs = tmp_path / f"{name}.jobs"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JOBS": str(jobs)}
    done = subprocess.run([sys.executable, "app.py", "-m", *overrides, f"hydra.sweep.dir={tmp_path / name}",
                           "hydra/hydra_logging=disabled", "hydra/job_logging=disabled"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    return done, jobs.read_text().splitlines() if jobs.exists() else []


@pytest.mark.slow  # two sweeps of twelve jobs, each in a process of its own
def test_the_grid_sweeper_launches_the_basic_sweepers_jobs_in_its_order(tmp_path):
    grid = ["a=1,2", "shape=round,square", "b=x,y,z", "c=5", "hydra.sweeper.max_batch_size=5"]
    basic_run, basic = sweep(tmp_path, "basic", *grid, "hydra/sweeper=basic")
    grid_run, ours = sweep(tmp_path, "grid", *grid, "hydra/sweeper=grid")
    assert basic_run.returncode == 0 and grid_run.returncode == 0, basic_run.stderr + grid_run.stderr
    assert len(basic) == 12 and ours == basic
    assert [int(line.split()[0]) for line in ours] == list(range(12))  # the second batch goes on counting


@pytest.mark.parametrize("bad", ["a=1,2 shape=round,square,oval", "shape=round,oval a=1,2"])
def test_a_bad_value_anywhere_in_the_grid_is_refused_before_any_job(tmp_path, bad):
    done, jobs = sweep(tmp_path, "grid", "c=1,2", *bad.split(), "hydra/sweeper=grid")
    assert done.returncode != 0 and jobs == []
    assert "Could not find 'shape/oval'" in done.stderr


def test_a_batch_size_that_is_not_positive_is_refused_before_anything_is_written(tmp_path):
    done, jobs = sweep(tmp_path, "grid", "a=1,2", "hydra.sweeper.max_batch_size=0", "hydra/sweeper=grid")
    assert done.returncode != 0 and jobs == [] and not (tmp_path / "grid").exists()
    assert "hydra.sweeper.max_batch_size=0 is invalid" in done.stderr and "Traceback" not in done.stderr


def test_a_sweep_that_is_no_grid_is_refused_with_the_message_alone(tmp_path):
    done, jobs = sweep(tmp_path, "grid", "a=interval(0,1)", "hydra/sweeper=grid")
    assert done.returncode != 0 and jobs == [] and not (tmp_path / "grid").exists()
    assert "the grid sweeper takes lists of values, not a=interval(0,1)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_harness_sweeps_with_the_grid_sweeper_by_default():
    cfg = compose_with_hydra(["seed=0"])
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.harness_grid_sweeper.grid_sweeper.GridSweeper"


@pytest.mark.parametrize("value", ["0", "-3", "nan", "2.5", "true", "[1]"])
def test_the_command_line_refuses_a_batch_size_that_is_not_a_count(value):
    from harness.validation.command_line import check_overrides
    from harness.validation.errors import ConfigError

    with pytest.raises(ConfigError, match=r"hydra.sweeper.max_batch_size=.* is invalid: must be an integer >= 1"):
        check_overrides([f"hydra.sweeper.max_batch_size={value}"])
    check_overrides(["hydra.sweeper.max_batch_size=4"])
    check_overrides(["hydra.sweeper.max_batch_size=-1"])


REFUSED = [  # a group choice is composed; a plain value is set in the first job's config, typed by the schema
    ("drift=sudden,nope seed=0,1", "Could not find 'drift/nope'"),
    ("seed=0,1 drift.severity=0.5,1,abc", "Error merging override drift.severity=abc\nValue 'abc' of type 'str' could "
                                          "not be converted to Float"),
]


@pytest.mark.slow
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("grid, message", REFUSED, ids=["group", "plain"])
def test_a_harness_sweep_the_sweeper_refuses_leaves_nothing_behind(tmp_path, existing, grid, message):
    sweep_dir = tmp_path / "sweep"
    if existing:
        sweep_dir.mkdir()  # given, empty: it stays
    done = preloaded.run([sys.executable, "-m", "harness.run", "-m", *grid.split(), f"hydra.sweep.dir={sweep_dir}"],
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=120, check=False)
    assert done.returncode != 0 and message in done.stderr
    left = sorted(p.name for p in sweep_dir.iterdir()) if sweep_dir.exists() else None
    assert left == ([] if existing else None)


@pytest.mark.slow
@pytest.mark.parametrize(("grid", "message"), [
    (["a=range(0,2000)", "b=range(0,1000)"], "this sweep has 2,000,000 jobs; at most 1,000,000 in one sweep"),
    (["a=range(0,1000001)"], "a=range(0,1000001) sweeps 1,000,001 values; at most 1,000,000 jobs"),
    (["a=1,2", "b=range(3,0)"], "b=range(3,0) sweeps no value: range(start,stop[,step]) counts from start up to stop"),
])
def test_a_sweep_of_no_job_or_of_more_than_one_machine_runs_is_refused_before_any_is_listed(tmp_path, grid, message):
    done, jobs = sweep(tmp_path, "huge", *grid, "hydra/sweeper=grid")
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert jobs == [] and not (tmp_path / "huge").exists()


NUMBERS = st.one_of(st.integers(-50, 50), st.integers(-50, 50).map(lambda n: round(n * 0.1, 1)),
                    st.sampled_from([0, 0.0, 10**30, float("inf"), float("-inf"), float("nan"), 1e-300]))


@settings(max_examples=400, deadline=None)
@given(start=NUMBERS, stop=NUMBERS, step=NUMBERS)
def test_a_swept_range_is_counted_as_hydra_lists_it_or_refused_by_name(start, stop, step):
    """:func:`check_sweep_size` counts a range without listing it: as many values as Hydra's own
    listing, or a refusal naming the override (a step of 0, a bound that is no finite number, more
    values than one sweep may have, none at all), never another exception."""
    text = f"x=range({start},{stop},{step})"
    override = OverridesParser.create().parse_override(text)
    try:
        check_sweep_size(override)
    except CompactHydraException as refused:
        assert str(refused).startswith(f"{text} ")
        return
    assert sweep_size(override) == len(list(override.sweep_string_iterator()))


VALUES = st.sampled_from(["0", "1", "-1", "0.5", "nan", "inf", "a", "[1,2]", "''", "null"])
SWEEPS = st.recursive(
    st.one_of(st.lists(VALUES, min_size=1, max_size=3).map(",".join),
              st.tuples(NUMBERS, NUMBERS, NUMBERS).map(lambda bounds: "range({},{},{})".format(*bounds)),
              st.sampled_from(["*", "x*", "su*", ""]).map(lambda pattern: f"glob({pattern})")),
    lambda inner: st.one_of(st.tuples(st.sampled_from(["choice", "shuffle", "sort"]), st.lists(inner, min_size=1, max_size=2))
                            .map(lambda call: f"{call[0]}({','.join(call[1])})"),
                            inner.map(lambda sweep: f"tag(t,{sweep})"), st.tuples(inner, VALUES).map(",".join)),
    max_leaves=4)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(["seed", "drift.severity", "drift", "strategy"]), sweep=SWEEPS)
def test_any_swept_value_is_listed_or_refused_by_name(key, sweep):
    """Whatever a command line sweeps, in Hydra's grammar (lists, ranges, globs, choice, shuffle, sort and
    tags, nested), the grid sweeper lists it or refuses it with Hydra's kind of message (no traceback)
    before any job; what it lists holds at least one value."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
        try:
            values = grid_values(parser.parse_overrides([f"{key}={sweep}"]))
        except HydraException:
            return
    assert len(values) == 1 and values[0] and all(value.startswith(f"{key}=") for value in values[0])
