"""Values for Hydra's own config (``hydra.*``) on the command line: refused by name before Hydra reads
them when they do not fit Hydra's schema (Hydra stops on them with a traceback), taken otherwise."""

import pytest

from harness.validation.errors import ConfigError
from harness.validation.hydra_values import check_hydra_values


@pytest.mark.parametrize(("override", "message"), [
    ("hydra.job_logging=${now:%H}", "which Hydra cannot take: Cannot assign str to Dict[str, Any]"),
    ("hydra.callbacks=x", "hydra.callbacks=x gives 'x', which Hydra cannot take"),
    ("hydra.job.env_set=${now:%H}", "which Hydra cannot take: Cannot assign str to Dict[str, str]"),
    ("hydra.sweep=${seed}", "hydra.sweep=${seed} gives 0, which Hydra cannot take"),
    ("hydra.verbose=[hydra,1]", "hydra.verbose is true, false, a logger's name or a list of names"),
    ("hydra.verbose=${seed}", "hydra.verbose=${seed} gives 0: hydra.verbose is true, false"),
    ("hydra.run.dir=${oc.env:HARNESS_NO_SUCH_VARIABLE}", "cannot be resolved: KeyError raised while resolving"),
])
def test_a_value_hydra_cannot_take_is_refused_naming_it(override, message):
    for overrides in ([override], ["stream=teacher", override, "drift.severity=0.5"]):
        with pytest.raises(ConfigError) as refused:
            check_hydra_values(overrides)
        assert str(refused.value).startswith(f"{override} ") and message in str(refused.value)


@pytest.mark.parametrize("override", [
    "hydra.run.dir=out/${now:%Y-%m-%d}/${seed}", "hydra.sweep.dir=3", "hydra.verbose=true", "hydra.verbose=hydra",
    "hydra.verbose=[hydra,__main__]", "hydra.job.env_set.A=1", "hydra.job.chdir=1",
    "hydra.job_logging.handlers.file.filename=${hydra:runtime.output_dir}/x.log", "hydra.job.name=${now:%H}",
])
def test_a_value_that_fits_hydras_schema_is_taken(override):
    check_hydra_values([override])
