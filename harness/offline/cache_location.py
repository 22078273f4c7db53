"""Where the offline cache lives when ``offline.cache_dir`` is not given: the ``${offline_cache_dir:}``
resolver of :class:`harness.validation.config.OfflineConf`.

A run started inside the repository's checkout keeps its cache with its results
(``results/offline_cache``); anywhere else (a notebook folder, a home directory) it goes to the
platform's user cache directory, so that no working directory gets a stray ``results/``.
``HARNESS_OFFLINE_CACHE`` overrides both, and ``offline.cache_dir=...`` overrides everything."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs

ENV = "HARNESS_OFFLINE_CACHE"
PROJECT = "drift-harness"
IN_CHECKOUT = "results/offline_cache"  # relative: the checkout's own results/


def is_checkout(directory: Path) -> bool:
    """True when ``directory`` holds the project's ``pyproject.toml`` (``[project] name`` is drift-harness):
    its ``results/`` is then the project's own."""
    pyproject = directory / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name") == PROJECT
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # no file, or not a readable TOML one: not the checkout


def offline_cache_dir() -> str:
    """``$HARNESS_OFFLINE_CACHE`` if set and not empty; ``results/offline_cache`` when the working
    directory is the repository's checkout; else ``<user cache dir>/offline_cache``
    (``platformdirs.user_cache_dir("drift-harness")``, e.g. ``~/.cache/drift-harness`` on Linux)."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    if is_checkout(Path.cwd()):
        return IN_CHECKOUT
    return str(Path(platformdirs.user_cache_dir(PROJECT)) / "offline_cache")
