"""The harness's sweeper (``hydra/sweeper=grid``, the default; Hydra finds plugins only under the
``hydra_plugins`` package): Hydra's basic sweeper, a grid of every combination of the command line's
comma-separated values (and ``hydra.sweeper.params``, which the command line overrides), in the same
order, batched by ``max_batch_size``, with each job's config composed once.

Hydra's basic sweeper composes every job's config twice: once to check the whole batch before any
job starts, then again when the launcher runs the job; it has no switch for the first (about 0.1 s a
job, serially in the parent even when the launcher runs jobs in parallel). This sweeper still checks
before any job starts, but each swept value once, so a misspelt group choice or a value of the wrong
type is refused before anything runs: the first job's config is composed, each other value of a plain
key is set in it as Hydra sets a command-line value (``OmegaConf.update``, typed by the schema), and
each other choice of a config group (or a ``+``/``++``/``~`` override) is composed in the first job's
place. A config that only a combination of values breaks fails when its job is composed.
"""

# No postponed annotations: Hydra's plugin scan runs this module before it is in sys.modules, where a
# dataclass would look its string annotations up.
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override, OverrideType, RangeSweep, Sweep
from hydra.core.plugins import Plugins
from hydra.errors import CompactHydraException, ConfigCompositionException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


@dataclass
class GridSweeperConf:
    _target_: str = "hydra_plugins.harness_grid_sweeper.grid_sweeper.GridSweeper"
    max_batch_size: int | None = None  # None or -1: one batch
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="grid", node=GridSweeperConf, provider="harness")


MAX_JOBS = 1_000_000  # a sweep with more jobs is a typo (seed=range(0,1e9)), not a study: refused before it is listed


def sweep_size(override: Override) -> float:
    """How many values the discrete sweep ``override`` names, counted without listing more than
    :data:`MAX_JOBS` of them (``math.inf`` past any count); a range of no finite numbers or a step
    of 0 is refused.

    >>> [sweep_size(OverridesParser.create().parse_override(text)) for text in
    ...  ["seed=range(0,1000000000)", "x=range(0,1,0.25)", "x=range(5,0)", "x=range(-0.4,0,0.1)", "x=range(9,0,-4)",
    ...   "a=1,2,3"]]
    [1000000000, 4, 0, 5, 3, 3]
    """
    value = override.value()
    if isinstance(value, ChoiceSweep) and any(isinstance(item, Sweep) for item in value.list):
        raise CompactHydraException(f"{override.input_line} holds a sweep among its values, which Hydra cannot list: "
                                    "give the values themselves, or one range(...)")
    if not isinstance(value, RangeSweep):
        return len(value.list) if isinstance(value, ChoiceSweep) else 1
    bounds = (value.start, value.stop, value.step)
    if value.step == 0 or not all(math.isfinite(number) for number in bounds):
        raise CompactHydraException(f"{override.input_line} is no range: range(start,stop[,step]) takes finite numbers "
                                    "and a step other than 0")
    if all(isinstance(number, int) for number in bounds):
        return max(0, -((value.start - value.stop) // value.step))  # len(range(...)), for any size
    estimate = (value.stop - value.start) / value.step
    if estimate > MAX_JOBS + 1:
        return math.ceil(estimate) if math.isfinite(estimate) else math.inf
    # Hydra adds the step up (in decimal), which may give one value more or fewer than the quotient
    return sum(1 for _ in override.sweep_iterator())


def check_sweep_size(override: Override) -> None:
    """Refuse a swept key with no value (a grid of no job) or more than :data:`MAX_JOBS`, before they
    are listed.

    >>> check_sweep_size(OverridesParser.create().parse_override("seed=range(3,0)"))
    Traceback (most recent call last):
    hydra.errors.CompactHydraException: seed=range(3,0) sweeps no value: range(start,stop[,step]) counts from start up to stop, stop excluded (a negative step counts down)
    """
    if (size := sweep_size(override)) > MAX_JOBS:
        count = f"{size:,}" if size < 1e15 else f"about {size:.0e}" if math.isfinite(size) else "over 1e308"
        raise CompactHydraException(f"{override.input_line} sweeps {count} values; at most {MAX_JOBS:,} jobs in one "
                                    "sweep: sweep fewer values")
    if size == 0:
        raise CompactHydraException(f"{override.input_line} sweeps no value: range(start,stop[,step]) counts from "
                                    "start up to stop, stop excluded (a negative step counts down)")


def grid_values(overrides: list[Override]) -> list[list[str]]:
    """Per key, in order of first appearance, the ``key=value`` of each of its values; a later
    override of a key replaces an earlier one (the command line replaces ``params``).

    >>> parsed = OverridesParser.create().parse_overrides(["a=1,2", "b=x", "a=3,4,5"])
    >>> grid_values(parsed)
    [['a=3', 'a=4', 'a=5'], ['b=x']]
    """
    by_key: dict[str, list[str]] = {}
    for override in overrides:
        key = override.get_key_element()
        if not override.is_sweep_override():
            by_key[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep():
            check_sweep_size(override)
            by_key[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
            if not by_key[key]:
                raise CompactHydraException(f"{override.input_line} sweeps no value: glob(...) picks among the options "
                                            f"of a config group, and none of {key}'s matches")
        else:
            raise CompactHydraException(f"the grid sweeper takes lists of values, not {override.input_line}")
    return list(by_key.values())


def other_values(values: list[list[str]]) -> list[tuple[str, list[str]]]:
    """Each value but the first of each key, with the job that holds it in the first job's place.

    >>> other_values([["a=1", "a=2"], ["b=x"], ["c=3", "c=4"]])
    [('a=2', ['a=2', 'b=x', 'c=3']), ('c=4', ['a=1', 'b=x', 'c=4'])]
    """
    first = [options[0] for options in values]
    return [(value, first[:i] + [value] + first[i + 1 :]) for i, options in enumerate(values) for value in options[1:]]


class GridSweeper(Sweeper):
    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None) -> None:
        super().__init__()
        self.max_batch_size = max_batch_size
        self.params = params or {}

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        values = grid_values(parser.parse_overrides([*(f"{k}={v}" for k, v in self.params.items()), *arguments]))
        if (n_jobs := math.prod(map(len, values))) > MAX_JOBS:
            raise CompactHydraException(f"this sweep has {n_jobs:,} jobs; at most {MAX_JOBS:,} in one sweep: sweep "
                                        "fewer values")
        jobs = [list(job) for job in itertools.product(*values)]
        size = len(jobs) if self.max_batch_size in (None, -1) else self.max_batch_size
        if size <= 0:
            # compact: Hydra prints the message alone, as for a value that does not compose
            raise CompactHydraException(f"hydra.sweeper.max_batch_size={self.max_batch_size} is invalid: must be an "
                                        "integer >= 1, or -1 (or null) for one batch of every job")
        self.check_values(values)  # before anything is written
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns = []
        for start in range(0, len(jobs), size):
            results = self.launcher.launch(jobs[start : start + size], initial_job_idx=start)
            for result in results:
                _ = result.return_value  # raises the job's exception, as Hydra's sweepers do
            returns.append(results)
        return returns

    def check_values(self, values: list[list[str]]) -> None:
        """Every swept value, once, as the module's docstring says; raises Hydra's composition errors."""
        loader = self.hydra_context.config_loader
        config = loader.load_sweep_config(self.config, [options[0] for options in values])
        parser = OverridesParser.create(config_loader=loader)
        for value, job in other_values(values):
            override = parser.parse_override(value)
            key = override.key_or_group
            if (override.type is not OverrideType.CHANGE or override.package is not None or "/" in key
                    or key.startswith("hydra.") or loader.get_group_options(key)):
                loader.load_sweep_config(self.config, job)
                continue
            try:  # as Hydra applies a command-line value to a composed config
                OmegaConf.update(config, key, override.value(), merge=True)
            except OmegaConfBaseException as error:
                raise ConfigCompositionException(f"Error merging override {value}") from error
