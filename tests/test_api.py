"""The harness from Python: ``harness.compose``, ``harness.run_experiment``, ``harness.load_run``, and the
README's "From Python" section executed as a notebook would."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

import harness
from harness.results.report import collect
from harness.results.store import job_lock
from harness.run import run
from harness.strategies.river import RiverClassifier
from harness.validation.errors import ConfigError, RunDirectoryError
from tests import preloaded
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]
SMALL = [*TINY, "strategy=[frozen,river_logreg]", "monitor=off", "figures=false"]
TABLES = ("summary", "windows", "costs")


class Failing(RiverClassifier):
    """A strategy whose learning fails during the replay: a run that fails once its checks have passed."""

    def learn(self, X, y) -> None:
        raise RuntimeError("learning failed on purpose")


def snapshot(root: Path) -> dict:
    """Every file under ``root`` with its bytes and modification time."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A run made by ``run_experiment`` into a new directory."""
    out = tmp_path_factory.mktemp("api") / "run"
    return harness.run_experiment(harness.compose(SMALL), out)


# -- import harness -------------------------------------------------------------------------------


@pytest.mark.slow
def test_import_harness_loads_nothing_heavy_and_each_name_on_first_use():
    code = ("import sys, harness; heavy = ('torch', 'hydra', 'pandas', 'river', 'numpy', 'harness.run'); "
            "print([m for m in heavy if m in sys.modules]); harness.load_run; "
            "print([m for m in heavy if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    before, after_load_run = done.stdout.splitlines()
    assert before == "[]", done.stderr
    # reading a run needs no torch, and pandas only once a table is read
    assert "torch" not in after_load_run and "pandas" not in after_load_run
    assert harness.compose is harness.pipeline.api.compose and harness.run_experiment is harness.pipeline.api.run_experiment
    assert harness.load_run is harness.results.store.load_run


def test_the_names_to_write_and_check_a_strategy_or_a_stream_load_on_first_use():
    code = ("import sys, harness; print('harness.pipeline.testing' in sys.modules, 'torch' in sys.modules); "
            "harness.ConfigError; print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["False", "False", "False"], done.stderr
    from harness.pipeline.testing import check_strategy
    from harness.strategies.base import BaseStrategy
    from harness.streams.stream import Stream
    from harness.validation.errors import ConfigError

    assert (harness.check_strategy, harness.BaseStrategy, harness.Stream, harness.ConfigError) == (
        check_strategy, BaseStrategy, Stream, ConfigError)
    assert {"check_strategy", "BaseStrategy", "Stream", "ConfigError"} <= set(harness.__all__) & set(dir(harness))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'harness' has no attribute 'run_experimnt'"):
        harness.run_experimnt


# -- compose --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_compose_is_the_config_the_command_line_runs():
    overrides = ["drift.kind=covariate", "drift.severity=0.5", "seed=3", "strategy=[frozen,river_hat]",
                 "stream=gaussian_classes"]
    done = preloaded.run([sys.executable, "-m", "harness.run", "--cfg", "job", *overrides], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert OmegaConf.to_yaml(harness.compose(overrides)) == done.stdout


def test_compose_makes_the_command_lines_checks():
    with pytest.raises(ConfigError, match=re.escape("strategy=[frozen,frozen] names frozen twice")):
        harness.compose(["strategy=[frozen,frozen]"])
    with pytest.raises(ConfigError, match="save_stream=2 is not a boolean; allowed: true, false"):
        harness.compose(["save_stream=2"])


@pytest.mark.parametrize("override, error", [("drift.sevrity=0.5", "ConfigCompositionException"),
                                             ("seed=abc", "ConfigCompositionException"),
                                             ("seed=[1", "OverrideParseException")])
def test_compose_raises_hydras_exception_as_its_docstring_says(override, error):
    """docs/python.md and ``compose``'s docstring name them: a misspelt key, a wrong type, a syntax error."""
    import hydra.errors

    with pytest.raises(getattr(hydra.errors, error)):
        harness.compose([override])


def test_compose_refuses_a_string_for_the_list_of_overrides():
    with pytest.raises(TypeError, match=re.escape("give a list such as ['drift.severity=0.5']")):
        harness.compose("seed=1")


@settings(max_examples=30, deadline=None)
@given(item=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=4),
                      st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)),
       before=st.integers(0, 2))
def test_compose_refuses_an_override_that_is_no_string_naming_its_place(item, before):
    with pytest.raises(TypeError, match=re.escape(f"overrides[{before}]={item!r} is a {type(item).__name__}; each "
                                                  "override is a string")):
        harness.compose([*["seed=1"] * before, item])
    if not isinstance(item, (list, dict, bytes)):  # of an iterable, each element is checked instead
        with pytest.raises(TypeError, match=re.escape(f"overrides={item!r} is no list")):
            harness.compose(item)


@pytest.mark.parametrize("where", [None, 3, ["run"]])
def test_run_experiment_refuses_a_directory_that_is_no_path(where):
    with pytest.raises(TypeError, match=re.escape(f"output_dir={where!r} is no path")):
        harness.run_experiment(harness.compose(TINY), where)


# -- run_experiment -------------------------------------------------------------------------------


@pytest.mark.slow
def test_run_experiment_returns_the_tables_it_wrote(made):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(made, name), pd.read_csv(made.output_dir / f"{name}.csv"))
    assert made.result == json.loads((made.output_dir / "result.json").read_text())
    assert made.result["status"] == "ok"
    pd.testing.assert_frame_equal(made.predictions, pd.read_parquet(made.output_dir / "predictions.parquet"))
    assert sorted(made.summary.strategy.unique()) == ["frozen", "river_logreg"]
    assert len(made.predictions) == 2 * 1200  # strategies x stream.n_deploy
    assert repr(made) == f"RunResult({str(made.output_dir)!r}, strategies=['frozen', 'river_logreg'])"  # no tables


@pytest.mark.slow
def test_any_recorded_table_by_name_and_a_missing_one_named(made):
    pd.testing.assert_frame_equal(made.table("offline_search"), pd.read_csv(made.output_dir / "offline_search.csv"))
    with pytest.raises(KeyError, match="has no table 'alarms'; it has \\['costs', "):
        made.table("alarms")  # monitor=off


@pytest.mark.slow
def test_a_run_from_python_keeps_its_config_and_the_report_finds_it(made):
    recorded = OmegaConf.load(made.output_dir / ".hydra" / "config.yaml")
    assert recorded == harness.compose(SMALL)
    collection = collect([made.output_dir.parent])
    assert set(collection.runs.strategy) == {"frozen", "river_logreg"} and not collection.failed
    assert dict(zip(collection.runs.strategy, collection.runs.family)) == {"frozen": "static", "river_logreg": "river"}


def test_summary_records_the_family_each_strategy_class_declares(made):
    assert list(made.summary.columns[:3]) == ["strategy", "family", "phase"]
    assert made.summary.groupby("strategy").family.unique().map(list).to_dict() == {
        "frozen": ["static"], "river_logreg": ["river"]}


@pytest.mark.slow
def test_load_run_reads_back_exactly_what_the_run_computed(tmp_path):
    computed = run(harness.compose(SMALL), tmp_path)  # the tables in memory, before any file is read
    loaded = harness.load_run(tmp_path)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(computed, name), check_exact=True)
    assert loaded.output_dir == tmp_path


@pytest.mark.slow
def test_a_finished_run_of_the_same_config_is_returned_without_running_again(made):
    before = snapshot(made.output_dir)
    again = harness.run_experiment(harness.compose([*SMALL, "quiet=false"]), made.output_dir)  # quiet: no number
    assert snapshot(made.output_dir) == before
    assert again.result == made.result
    pd.testing.assert_frame_equal(again.summary, made.summary)


@pytest.mark.slow
def test_a_finished_run_of_another_config_is_refused_and_left_untouched(made):
    before = snapshot(made.output_dir)
    with pytest.raises(RunDirectoryError, match=r"holds a finished run of another config \(seed: 0 -> 1\); "
                                                r"choose another directory, or rerun=true to replace it"):
        harness.run_experiment(harness.compose([*SMALL, "seed=1"]), made.output_dir)
    assert snapshot(made.output_dir) == before


@pytest.mark.slow
def test_a_directory_holding_other_files_is_refused_and_left_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("keep\n")
    with pytest.raises(RunDirectoryError, match=r"holds files that are no run's \(notes.txt\); choose a new"):
        harness.run_experiment(harness.compose(SMALL), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.slow
def test_a_directory_another_process_runs_is_refused(tmp_path):
    with job_lock(tmp_path / "run"):  # a lock held through another open file: as another process's
        with pytest.raises(RunDirectoryError, match="is being run by another process"):
            harness.run_experiment(harness.compose(SMALL), tmp_path / "run")
    assert [p.name for p in (tmp_path / "run").iterdir()] == [".lock"]


@pytest.mark.slow
def test_a_bad_value_is_refused_before_anything_is_created(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("drift.severity=1.7 is outside [0, 1]")):
        harness.run_experiment(harness.compose([*SMALL, "drift.severity=1.7"]), tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_config_that_is_not_composed_is_refused():
    with pytest.raises(TypeError, match=r"cfg is a dict; build it with harness.compose"):
        harness.run_experiment({"seed": 0}, "unused")


@pytest.mark.slow
def test_a_failing_run_is_recorded_and_raised_then_refused_by_load_run(tmp_path):
    failing = [*SMALL, "strategy=[no_change]", f"strategy.no_change._target_={__name__}.Failing"]
    with pytest.raises(RuntimeError, match="learning failed on purpose"):
        harness.run_experiment(harness.compose(failing), tmp_path)
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "failed"
    with pytest.raises(RunDirectoryError, match="holds a failed run: StrategiesFailed: every strategy failed: strategy "
                                                "no_change failed at t=0 while learning: RuntimeError: learning failed on "
                                                "purpose"):
        harness.load_run(tmp_path)
    redone = harness.run_experiment(harness.compose([*SMALL, "strategy=[no_change]"]), tmp_path)
    assert redone.result["status"] == "ok" and list(redone.costs.strategy) == ["no_change"]


# -- load_run refusals ----------------------------------------------------------------------------


@pytest.mark.slow
def test_load_run_refuses_an_unfinished_a_corrupt_and_a_missing_run(made, tmp_path):
    unfinished, corrupt = tmp_path / "unfinished", tmp_path / "corrupt"
    shutil.copytree(made.output_dir, unfinished)
    (unfinished / "result.json").unlink()
    with pytest.raises(RunDirectoryError, match="holds no finished run: .*result.json does not exist"):
        harness.load_run(unfinished)
    shutil.copytree(made.output_dir, corrupt)
    with open(corrupt / "summary.csv", "a") as handle:
        handle.write("frozen,all,1,1.0\n")
    with pytest.raises(RunDirectoryError, match="holds a corrupt run: .*summary.csv missing or changed"):
        harness.load_run(corrupt)
    with pytest.raises(RunDirectoryError, match="is not a directory"):
        harness.load_run(tmp_path / "nowhere")


# -- the README, as a notebook runs it ------------------------------------------------------------


def readme_python_blocks(section: str) -> list[str]:
    """The ```python blocks of the README's section titled ``section``, in order."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


@pytest.mark.slow
def test_the_readme_from_python_section_runs_as_written(tmp_path, monkeypatch, capsys):
    blocks = readme_python_blocks("From Python")
    assert blocks and "harness.run_experiment" in blocks[0] and "harness.load_run" in blocks[0]
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    run_dir = tmp_path / "results" / "notebook" / "covariate"
    assert json.loads((run_dir / "result.json").read_text())["config"]["drift"]["kind"] == "covariate"
    assert "confident_error_rate" in capsys.readouterr().out
    assert os.path.samefile(namespace["again"].output_dir, run_dir)
