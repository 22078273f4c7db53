"""What the command line's arguments are, without importing the checks: Hydra's flags that run no
job (help, completion, info) and those that take the next argument as their value."""

from __future__ import annotations

import os

NO_JOB_FLAGS = ("-h", "--help", "--hydra-help", "-sc", "--shell-completion", "-i", "--info")
COMPLETION_FLAGS = ("-sc", "--shell-completion")
COMPLETION_COMMANDS = ("install", "uninstall", "query")
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


def completion_problem(argv: list[str]) -> str:
    """What keeps a shell-completion request (``-sc``) from being one Hydra answers, ``""`` if nothing:
    it takes one of ``install=SHELL``, ``uninstall=SHELL`` and ``query=SHELL``, the last being what the
    shell's completion function sends, with ``COMP_LINE`` set (Hydra stops on anything else with a
    traceback).

    >>> completion_problem(["drift.severity=0.5"]), completion_problem(["-sc", "install=bash"])
    ('', '')
    >>> print(completion_problem(["-sc"]))  # doctest: +ELLIPSIS
    -sc takes one of install=SHELL, uninstall=SHELL or query=SHELL, SHELL one of ['bash', 'fish', 'zsh'] (...)
    """
    if not any(arg in COMPLETION_FLAGS for arg in argv):
        return ""
    from hydra.core.plugins import Plugins
    from hydra.plugins.completion_plugin import CompletionPlugin

    shells = sorted(plugin.provides() for plugin in Plugins.instance().discover(CompletionPlugin))
    usage = (f"-sc takes one of install=SHELL, uninstall=SHELL or query=SHELL, SHELL one of {shells} "
             "(eval \"$(python -m harness.run -sc install=bash)\" sets up tab completion in bash)")
    commands = [arg.split("=", 1) for arg in argv if arg.split("=", 1)[0] in COMPLETION_COMMANDS and "=" in arg]
    if len(commands) != 1 or commands[0][1] not in shells:
        return usage
    command, shell = commands[0]
    if command == "query" and "COMP_LINE" not in os.environ:
        return (f"-sc query={shell} is what {shell}'s completion function sends, with COMP_LINE set to the line being "
                f"completed; {usage}")
    return ""
