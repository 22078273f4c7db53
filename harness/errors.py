"""The one error a user sees for bad input."""


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key, the value and what is allowed."""
