"""What a ``torch.export`` archive (``.pt2``) may hold before the harness loads it.

``torch.export.load`` runs code a file can carry: it unpickles (``weights_only=False``) the weights
and constants an archive marks ``use_pickle``, its ``custom_obj_``/``opaque_obj_`` constants and a
legacy ``{model}.pt`` weights or constants file, and it falls back to a full unpickle when its
example inputs fail the weights-only unpickler. It also evaluates the shape expressions
(``expr_str``, through ``sympy.sympify``, which calls ``eval``), executes the guards
(``guards_code``) and calls whatever each graph node's ``target`` names (``torch.*``,
``_operator.*`` or ``math.*``, by attribute lookup). What ``torch.export.save`` writes for an
ordinary network needs none of these but raw tensor bytes, JSON, example inputs that torch's
weights-only unpickler accepts, ``torch.ops`` targets, arithmetic shape expressions and shape
guards. :func:`check_archive` reads the archive as a zip and refuses anything else, before
``torch.export.load`` sees it.
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path

import torch

from harness.results.records import parse_json
from harness.validation.errors import ConfigError

# Top-level entries (below the archive's root folder) that torch.export.save writes; anything else
# (data/aotinductor/ compiled libraries, legacy pickles, unknown files) is refused.
KNOWN = re.compile(r"(archive_format|archive_version|byteorder|\.data/version|\.data/serialization_id"
                   r"|models/[^/]+\.json|data/(weights|constants)/([^/.]+|[^/]+_config\.json)"
                   r"|data/sample_inputs/[^/]+\.pt"
                   r"|extra/[^/]+)")
PICKLED_CONSTANTS = ("custom_obj_", "opaque_obj_")  # torch unpickles these whatever the config says
# _operator functions a graph may call: arithmetic and comparisons (not attrgetter, methodcaller, call).
OPERATORS = frozenset("getitem add sub mul truediv floordiv mod pow neg pos abs eq ne lt le gt ge and_ or_ xor "
                      "not_ invert lshift rshift matmul truth".split())
# Names a shape expression may use besides shape symbols (s0, u3, ...): the sympy functions torch's
# deserializer hands to sympify, and sympy's own constants.
SYMPY_NAMES = frozenset("FloorDiv ModularIndexing Where PythonMod Mod CleanDiv CeilToInt FloorToInt CeilDiv LShift "
                        "RShift PowByNatural FloatPow FloatTrueDiv IntTrueDiv IsNonOverlappingAndDenseIndicator "
                        "TruncToFloat TruncToInt RoundToInt RoundDecimal ToFloat Identity Max Min Abs Eq Ne Lt Le Gt "
                        "Ge And Or Not True False oo zoo nan Integer Rational Float Symbol positive integer "
                        "nonnegative negative real finite nonzero".split())
SYMBOL = re.compile(r"[a-z]+\d+")
QUOTED_SYMBOL = re.compile(r"'[a-z]+\d+'")  # Symbol('s77', positive=True, integer=True)
NUMBER = re.compile(r"\d+(\.\d+)?(e[+-]?\d+)?")
EXPR_CHARS = re.compile(r"[A-Za-z0-9_+\-*/%()<>=!&|~, ]*")
GUARD_ATTRIBUTES = frozenset({"size", "stride", "shape", "dim", "storage_offset", "numel"})
GUARD_NODES = (ast.Expression, ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name,
               ast.Subscript, ast.Attribute, ast.Call, ast.Load, ast.operator, ast.cmpop, ast.boolop,
               ast.unaryop, ast.Tuple)


class NotProgram(Exception):
    """The file is no ``torch.export`` archive (no zip, or a zip without ``archive_format`` pt2)."""


class Unsafe(Exception):
    """An entry of the archive that loading would run as code: ``entry`` and ``why``."""

    def __init__(self, entry: str, why: str):
        super().__init__(f"{entry}: {why}")
        self.entry, self.why = entry, why


def check_archive(path: Path, key: str) -> None:
    """Refuse (ConfigError naming ``key``, the file, the entry and why) an archive that loading
    would run code from; ``model.trusted=true`` is the user's way past it. A file that is no
    ``torch.export`` archive raises :class:`NotProgram` (it is never handed to torch)."""
    try:
        inspect_archive(path)
    except Unsafe as unsafe:
        raise ConfigError(
            f"{key}={str(path)!r}: the entry {unsafe.entry!r} {unsafe.why}; torch.export.load would run code "
            "from it, so the harness does not load it. A program written by torch.export.save of an ordinary "
            "network has no such entry; if you trust this file's author, set model.trusted=true") from None


def inspect_archive(path: Path) -> None:
    """Raise :class:`Unsafe` at the first entry of the ``.pt2`` at ``path`` that is pickled, executed
    or unknown, :class:`NotProgram` if it is no ``torch.export`` archive."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise NotProgram(f"{type(error).__name__}: {error}") from None
    with archive:
        names = archive.namelist()
        formats = [name for name in names if name.split("/", 1)[-1] == "archive_format"]
        if len(formats) != 1 or archive.read(formats[0]) != b"pt2":
            raise NotProgram("no archive_format entry saying pt2 (a torch.save file is a zip too)")
        for name in names:
            relative = name.split("/", 1)[1] if "/" in name else name
            if not KNOWN.fullmatch(relative):
                raise Unsafe(name, "is not a file torch.export.save writes (compiled code, a legacy pickle or "
                             "an unknown payload)")
            if relative.endswith("_config.json") and relative.startswith(("data/weights/", "data/constants/")):
                _check_payloads(name, _json(archive, name))
            elif relative.startswith("models/"):
                _check_program(name, _json(archive, name))
            elif relative.startswith("data/sample_inputs/"):
                _check_sample_inputs(name, archive.read(name))


def _json(archive: zipfile.ZipFile, name: str):
    try:
        return parse_json(archive.read(name))
    except ValueError:  # UnicodeDecodeError too
        raise Unsafe(name, "is not JSON") from None


def _check_payloads(name: str, config) -> None:
    """A weights or constants config: no entry marked pickled, no pickled custom or opaque object."""
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise Unsafe(name, "is not a payload config ({'config': {...}})")
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or not isinstance(meta.get("path_name"), str):
            raise Unsafe(name, f"describes {fqn!r} without a path_name")
        if meta.get("use_pickle") is not False:
            raise Unsafe(name, f"marks {fqn!r} ({meta['path_name']}) as pickled (use_pickle)")
        if meta["path_name"].startswith(PICKLED_CONSTANTS):
            raise Unsafe(name, f"stores {fqn!r} as a pickled object ({meta['path_name']})")


def _check_program(name: str, program) -> None:
    """The graph JSON: targets from torch.ops (or arithmetic), arithmetic shape expressions, shape guards."""
    if not isinstance(program, dict):
        raise Unsafe(name, "is not a serialized program")
    for guard in program.get("guards_code") or []:
        if not _shape_guard(guard):
            raise Unsafe(name, f"has the guard {str(guard)[:80]!r}, which is executed and is no shape comparison")
    for node in _walk(program):
        target, expr = node.get("target"), node.get("expr_str")
        if isinstance(target, str) and ("inputs" in node or "outputs" in node) and not _safe_target(target):
            raise Unsafe(name, f"calls {target[:80]!r}, which is no torch.ops operator or arithmetic")
        if expr is not None and not _arithmetic(expr):
            raise Unsafe(name, f"has the shape expression {str(expr)[:80]!r}, which sympy would evaluate as code")


def _walk(node):
    """Every dict inside a JSON value."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _safe_target(target: str) -> bool:
    parts = target.split(".")
    if any(part.startswith("__") or not part for part in parts):
        return False
    if parts[0] == "_operator":
        return len(parts) == 2 and parts[1] in OPERATORS
    if parts[0] == "math":
        return len(parts) == 2
    return target.startswith("torch.ops.")


def _arithmetic(expr) -> bool:
    """Numbers, shape symbols and the sympy names above, no attribute, no quote but a symbol's name."""
    if not isinstance(expr, str) or "__" in expr:
        return False
    plain = NUMBER.sub("0", QUOTED_SYMBOL.sub("s0", expr))
    if not EXPR_CHARS.fullmatch(plain):
        return False
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", plain)
    return all(SYMBOL.fullmatch(word) or word in SYMPY_NAMES for word in names)


def _shape_guard(guard) -> bool:
    """``L['x'].size()[0] > 4`` and the like: comparisons of sizes and strides of the inputs."""
    if not isinstance(guard, str) or "__" in guard:
        return False
    try:
        tree = ast.parse(guard, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if not isinstance(node, GUARD_NODES):
            return False
        if isinstance(node, ast.Name) and node.id != "L":
            return False
        if isinstance(node, ast.Attribute) and node.attr not in GUARD_ATTRIBUTES:
            return False
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute):
            return False
    return True


def _check_sample_inputs(name: str, data: bytes) -> None:
    """torch unpickles example inputs fully when its weights-only unpickler refuses them: only what
    that unpickler accepts (tensors, containers, numbers) is let through."""
    if not data:
        return
    try:
        torch.load(io.BytesIO(data), weights_only=True)
    except Exception as error:
        raise Unsafe(name, "holds example inputs that torch's weights-only unpickler refuses "
                     f"({type(error).__name__}); torch would unpickle them in full") from None
