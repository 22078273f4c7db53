"""What the command line's arguments are, without importing the checks: Hydra's flags, read as its
parser (argparse) reads them, which run no job (help, completion, info), and the rules between them
that Hydra breaks with a traceback."""

from __future__ import annotations

import os

# Hydra's flags by their long names, with their short forms (hydra/_internal/utils.py, get_args_parser)
FLAGS = {"--help": "-h", "--hydra-help": None, "--version": None, "--cfg": "-c", "--resolve": None,
         "--package": "-p", "--run": "-r", "--multirun": "-m", "--shell-completion": "-sc", "--config-path": "-cp",
         "--config-name": "-cn", "--config-dir": "-cd", "--experimental-rerun": None, "--info": "-i"}
SHORT = {short: name for name, short in FLAGS.items() if short}
TAKES_VALUE = ("--cfg", "--package", "--config-path", "--config-name", "--config-dir", "--experimental-rerun")
INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")  # --info's optional value
VALUE_FLAGS = (*TAKES_VALUE, *(FLAGS[name] for name in TAKES_VALUE if FLAGS[name]))
NO_JOB = ("--help", "--hydra-help", "--version", "--shell-completion", "--info")
COMMANDS = ("--run", "--multirun", "--cfg", "--info", "--shell-completion")  # one at most
COMPLETION_COMMANDS = ("install", "uninstall", "query")


def flags(argv: list[str]) -> set[str]:
    """Hydra's flags in ``argv`` by their long names: short forms, ``--flag=value`` and any unambiguous
    prefix (argparse takes ``--mu`` for ``--multirun``) included, a flag's value and what follows
    ``--`` left out.

    >>> sorted(flags(["-m", "--cf", "job", "--e=f", "--info", "config", "seed=1", "--", "-h"]))
    ['--cfg', '--experimental-rerun', '--info', '--multirun']
    """
    found: set[str] = set()
    i = 0
    while i < len(argv) and argv[i] != "--":
        arg, following = argv[i], argv[i + 1] if i + 1 < len(argv) else None
        name = arg.split("=", 1)[0]
        matches = [SHORT[name]] if name in SHORT else [name] if name in FLAGS else \
            [flag for flag in FLAGS if name.startswith("--") and len(name) > 2 and flag.startswith(name)]
        if len(matches) == 1:  # else no flag, or an ambiguous prefix, which argparse refuses itself
            found.add(flag := matches[0])
            if "=" not in arg and (flag in TAKES_VALUE or (flag == "--info" and following in INFO_CHOICES)):
                i += 1  # the flag's value
        i += 1
    return found


def runs_a_job(argv: list[str]) -> bool:
    """Whether ``argv`` runs a job: not with ``--help``, ``-sc`` (shell completion) or ``--info``,
    which Hydra answers from the composed config alone.

    >>> runs_a_job(["drift.severity=0.5"]), runs_a_job(["-sc", "query=bash"]), runs_a_job(["--help"])
    (True, False, False)
    """
    return not flags(argv) & set(NO_JOB)


RERUN = ("--experimental-rerun is not supported: it unpickles a file, which can run any code, and no run of the "
         "harness writes one; a run's config is in <run dir>/.hydra/config.yaml and its overrides in "
         ".hydra/overrides.yaml: give the same overrides again")


def flag_problem(argv: list[str]) -> str:
    """What breaks a rule between Hydra's flags (``""`` if nothing), which Hydra checks only once it runs
    and reports with a traceback: ``--resolve`` goes with ``--cfg`` (or ``--help``), and one of
    ``--run``, ``--multirun``, ``--cfg``, ``--info`` and ``-sc`` at most. And Hydra's
    ``--experimental-rerun FILE`` is refused however it is written, beside any other flag: Hydra obeys
    it before any of them and unpickles ``FILE``; no run of the harness writes one
    (``hydra.output_subdir: null``).

    >>> flag_problem(["--cfg", "job", "--resolve"]), flag_problem(["--help", "-m", "--resolve"])
    ('', '')
    >>> flag_problem(["-m", "--cfg", "job"])
    '--multirun and --cfg were given: one of --run, --multirun, --cfg, --info and --shell-completion at most'
    >>> [flag_problem(argv) == RERUN for argv in (["--help", "--exp=run/config.pickle"], ["--e", "f"],
    ...                                           ["drift.severity=0.5", "--", "-e"])]
    [True, True, False]
    """
    given = flags(argv)
    if "--experimental-rerun" in given:
        return RERUN
    if "--help" in given:
        return ""  # Hydra answers --help before either rule
    if "--resolve" in given and "--cfg" not in given:
        return "--resolve shows a config resolved: give it with --cfg job, --cfg hydra or --cfg all"
    if "--hydra-help" not in given and len(commands := [flag for flag in COMMANDS if flag in given]) > 1:
        return f"{' and '.join(commands)} were given: one of {', '.join(COMMANDS[:-1])} and {COMMANDS[-1]} at most"
    return ""


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
    if "--shell-completion" not in flags(argv):
        return ""
    from hydra.core.plugins import Plugins
    from hydra.plugins.completion_plugin import CompletionPlugin

    shells = sorted(plugin.provides() for plugin in Plugins.instance().discover(CompletionPlugin))
    usage = (f"-sc takes one of install=SHELL, uninstall=SHELL or query=SHELL, SHELL one of {shells} "
             "(eval \"$(drift-harness -sc install=bash)\" sets up tab completion of the drift-harness command in bash)")
    commands = [arg.split("=", 1) for arg in argv if arg.split("=", 1)[0] in COMPLETION_COMMANDS and "=" in arg]
    if len(commands) != 1 or commands[0][1] not in shells:
        return usage
    command, shell = commands[0]
    if command == "query" and "COMP_LINE" not in os.environ:
        return (f"-sc query={shell} is what {shell}'s completion function sends, with COMP_LINE set to the line being "
                f"completed; {usage}")
    return ""
