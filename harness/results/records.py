"""The records the harness reads back (``result.json``, the offline cache's ``entry.json`` and stored
networks, the sweep's ledger) are checked field by field before anything in them is used: a missing
key, a wrong type or a value that does not match its hash makes the record corrupt (set aside,
redone, listed), never a traceback and never a number in a table.

A schema maps each required key to a check: a type (or tuple of types), ``HEX64`` (a SHA-256 in
hex) or a callable returning True for an acceptable value. A sealed record carries
``record_sha256``, the SHA-256 of its own canonical JSON without that key, so that an edit of any
number in it is seen.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

SEAL = "record_sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def HEX64(value) -> bool:  # noqa: N802  a check read as a type in a schema
    """A SHA-256 in lower-case hex."""
    return isinstance(value, str) and bool(_HEX64.fullmatch(value))


def number(value) -> bool:
    """An int or float (not a bool); None stands for NaN in JSON."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def finite(value) -> bool:
    return number(value) and value is not None and math.isfinite(value)


def count(value) -> bool:
    """A non-negative int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def mapping_of(check: Callable) -> Callable:
    """A dict with string keys whose every value passes ``check``."""
    return lambda value: isinstance(value, dict) and all(isinstance(k, str) and check(v) for k, v in value.items())


def parse_json(text: str | bytes):
    """``json.loads``, with a document nested deeper than Python's recursion allows (``[[[...]]]``, never
    one the harness writes) refused as the ``ValueError`` any malformed document gets.

    >>> parse_json("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ValueError: JSON nested too deeply to be a record
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to be a record") from None


def problems(record, schema: Mapping[str, object]) -> str:
    """``""`` when ``record`` is a dict whose every key of ``schema`` is present and passes its
    check, else what is wrong (the first few keys).

    >>> problems({"n": 1, "sha": "0" * 64}, {"n": count, "sha": HEX64})
    ''
    >>> problems({"n": "1"}, {"n": count, "sha": HEX64})
    "n='1' fails count; sha is missing"
    """
    if not isinstance(record, dict):
        return f"it is a {type(record).__name__}, not a record"
    wrong = []
    for key, check in schema.items():
        if key not in record:
            wrong.append(f"{key} is missing")
        elif not _passes(record[key], check):
            name = getattr(check, "__name__", None) or getattr(check, "__qualname__", "its check")
            if isinstance(check, (type, tuple)):
                name = " or ".join(t.__name__ for t in (check if isinstance(check, tuple) else (check,)))
            shown = repr(record[key])
            wrong.append(f"{key}={shown[:60]}{'...' if len(shown) > 60 else ''} fails {name}")
    return "; ".join(wrong[:4])


def _passes(value, check) -> bool:
    if isinstance(check, (type, tuple)):
        return isinstance(value, check) and not (isinstance(value, bool) and check in (int, float))
    return bool(check(value))


def digest(record: Mapping) -> str:
    """SHA-256 of the record's canonical JSON, without its seal."""
    body = {key: value for key, value in record.items() if key != SEAL}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode()).hexdigest()


def seal(record: dict) -> dict:
    """``record`` (JSON-ready: no NaN) with its ``record_sha256``."""
    return {**record, SEAL: digest(record)}


def seal_problem(record: Mapping, *, required: bool) -> str:
    """``""`` when the record's seal matches its content (or it has none and none is ``required``)."""
    if SEAL not in record:
        return f"{SEAL} is missing" if required else ""
    try:
        matches = record[SEAL] == digest(record)
    except (TypeError, ValueError):
        matches = False
    return "" if matches else f"its content does not match its {SEAL} (it was changed after it was written)"


LEDGER_PREFIX = ".ledger-"  # a sweep's ledger: a hidden directory of its own in the sweep's directory
JOB_STATES = ("done", "skipped", "failed", "refused", "busy")
LEDGER_ENTRY = {"job_dir": str, "state": lambda state: state in JOB_STATES, "message": str}


def read_ledger_entry(path: Path) -> dict:
    """One entry of a sweep's ledger (how a job ended; entries are renamed into place whole); one that
    is unreadable or no valid outcome stands for a failed job, named by its file."""
    try:
        entry = parse_json(Path(path).read_text())
        wrong = problems(entry, LEDGER_ENTRY)
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        entry, wrong = None, f"{type(error).__name__}: {error}"
    return entry if not wrong else {"job_dir": str(path), "state": "failed", "message": f"corrupt ledger entry: {wrong}"}
