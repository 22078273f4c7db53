"""What the command line's arguments are, without importing the checks: Hydra's flags that run no
job (help, completion, info) and those that take the next argument as their value."""

from __future__ import annotations

NO_JOB_FLAGS = ("-h", "--help", "--hydra-help", "-sc", "--shell-completion", "-i", "--info")
VALUE_FLAGS = ("-c", "--cfg", "-p", "--package", "-cp", "--config-path", "-cn", "--config-name", "-cd",
               "--config-dir", "--experimental-rerun")


def runs_a_job(argv: list[str]) -> bool:
    """Whether ``argv`` runs a job: not with ``--help``, ``-sc`` (shell completion) or ``--info``,
    which Hydra answers from the composed config alone.

    >>> runs_a_job(["drift.severity=0.5"]), runs_a_job(["-sc", "query=bash"]), runs_a_job(["--help"])
    (True, False, False)
    """
    return not any(arg in NO_JOB_FLAGS for arg in argv)
