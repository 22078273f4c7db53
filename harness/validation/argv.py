"""What the command line's arguments are, without importing the checks: Hydra's flags that run no
job (help, completion, info) and those that take the next argument as their value."""

from __future__ import annotations

NO_JOB_FLAGS = ("-h", "--help", "--hydra-help", "-sc", "--shell-completion", "-i", "--info")
VALUE_FLAGS = ("-c", "--cfg", "-p", "--package", "-cp", "--config-path", "-cn", "--config-name", "-cd",
               "--config-dir", "--experimental-rerun")


def runs_a_job(argv: list[str]) -> bool:
    """Whether ``argv`` runs a job: not with ``--help``, ``-sc`` (shell completion) or ``--info``,
    which Hydra answers from the composed config alone; always with ``--experimental-rerun``, which
    Hydra obeys before any of those.

    >>> runs_a_job(["drift.severity=0.5"]), runs_a_job(["-sc", "query=bash"]), runs_a_job(["--help"])
    (True, False, False)
    >>> runs_a_job(["--help", "--exp=run/config.pickle"])
    True
    """
    return gives_rerun_flag(argv) or not any(arg in NO_JOB_FLAGS for arg in argv)


def gives_rerun_flag(argv: list[str]) -> bool:
    """Whether ``argv`` gives Hydra's ``--experimental-rerun``: whole, as ``--flag=FILE``, or abbreviated
    (Hydra's parser, argparse, takes any unambiguous prefix, and no other flag of Hydra's starts with
    ``--e``).

    >>> gives_rerun_flag(["--e", "f"]), gives_rerun_flag(["--experimental-rerun=f"]), gives_rerun_flag(["--", "-e"])
    (True, True, False)
    """
    return any(len(name := arg.split("=", 1)[0]) > 2 and "--experimental-rerun".startswith(name) for arg in argv)
