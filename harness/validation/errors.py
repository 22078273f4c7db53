"""The one error a user sees for bad input."""


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key, the value and what is allowed."""


class RunDirectoryError(RuntimeError):
    """A run directory cannot serve as asked: it holds no finished run to read (unfinished, failed or
    corrupt), or it cannot take a run (another config's finished run, another process's run, files
    that are no run's). The message names the directory and why."""
