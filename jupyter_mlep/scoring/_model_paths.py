"""Find where a scoring script joins ``AZUREML_MODEL_DIR`` with a literal path, and explain missing ones.

Azure ML mounts a registered model folder as ``$AZUREML_MODEL_DIR/<folder name>/...`` and a
single-file model directly in ``$AZUREML_MODEL_DIR``. A script that joins the directory with a
path that does not exist under the model folder fails in ``init()``; the check says so up front.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ModelDirJoin", "ModelDirReads", "describe_missing", "find_model_dir_reads"]

MODEL_DIR_VARIABLE = "AZUREML_MODEL_DIR"
_WRAPPERS = {
    "Path",
    "PurePath",
    "PosixPath",
    "str",
    "abspath",
    "realpath",
    "normpath",
    "expanduser",
    "fspath",
}
_LISTING_LIMIT = 400
_SHOWN = 8


@dataclass(frozen=True)
class ModelDirJoin:
    """``AZUREML_MODEL_DIR`` joined with the literal ``relative`` path on ``line``."""

    line: int
    relative: str


@dataclass
class ModelDirReads:
    """Whether the script reads ``AZUREML_MODEL_DIR`` at all, and the literal joins found."""

    any: bool = False
    joins: list[ModelDirJoin] = field(default_factory=list)


def find_model_dir_reads(tree: ast.Module) -> ModelDirReads:
    """Find reads of AZUREML_MODEL_DIR and the literal paths joined to it (directly or via a variable)."""
    reads = ModelDirReads(any=any(_is_env_read(node) for node in ast.walk(tree)))
    if not reads.any:
        return reads
    names: set[str] = set()
    assignments = [n for n in ast.walk(tree) if isinstance(n, ast.Assign)]
    for _ in range(3):  # follow short chains: d = os.getenv(...); p = Path(d)
        for node in assignments:
            if _is_dir(node.value, names):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.add(target.id)
    found: dict[tuple[int, int], str] = {}
    for candidate in ast.walk(tree):
        relative = _joined(candidate, names)
        if relative and isinstance(candidate, ast.expr):
            key = (candidate.lineno, candidate.col_offset)
            if len(relative) > len(found.get(key, "")):
                found[key] = relative
    reads.joins = [ModelDirJoin(line, rel) for (line, _), rel in sorted(found.items())]
    return reads


def describe_missing(relative: str, model_dir: Path) -> str:
    """Say that ``relative`` is missing under ``model_dir`` and which paths would work instead."""
    message = f"AZUREML_MODEL_DIR/{relative} does not exist under the model folder {model_dir}."
    first, _, rest = relative.partition("/")
    if first == model_dir.name and rest and (model_dir / rest).exists():
        return (
            f"{message} Azure ML mounts a registered model folder as $AZUREML_MODEL_DIR/<folder name>/..., "
            f"so {rest} is found when AZUREML_MODEL_DIR is the folder that contains {model_dir.name}: "
            f"use --model-dir {model_dir.parent}."
        )
    listing = _listing(model_dir)
    name = relative.rsplit("/", 1)[-1]
    matches = [p for p in listing if p.rstrip("/").rsplit("/", 1)[-1] == name]
    if matches:
        return f"{message} Did you mean {' or '.join(repr(m) for m in matches[:3])}? Join AZUREML_MODEL_DIR with that."
    if not listing:
        return f"{message} The folder is empty."
    shown = ", ".join(listing[:_SHOWN]) + (", ..." if len(listing) > _SHOWN else "")
    return (
        f"{message} It contains: {shown}. (A model registered from a single file sits directly in "
        "AZUREML_MODEL_DIR; a folder keeps its name.)"
    )


def _listing(root: Path) -> list[str]:
    """Relative paths under ``root`` (folders end with '/'), at most three levels, bounded in size."""
    result: list[str] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root)
        depth = len(base.parts)
        dirs.sort()
        if depth >= 2:
            dirs.clear()
        prefix = "" if depth == 0 else base.as_posix() + "/"
        result.extend(prefix + d + "/" for d in dirs)
        result.extend(prefix + f for f in sorted(files))
        if len(result) >= _LISTING_LIMIT:
            break
    return sorted(result, key=lambda p: (p.count("/") - p.endswith("/"), p))


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "environ") or (
        isinstance(node, ast.Attribute) and node.attr == "environ"
    )


def _is_model_dir_constant(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == MODEL_DIR_VARIABLE


def _is_env_read(node: ast.AST) -> bool:
    """``os.getenv("AZUREML_MODEL_DIR")``, ``os.environ.get(...)``, ``os.environ[...]`` and the like."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "getenv":
            return _is_model_dir_constant(node.args[0])
        if isinstance(func, ast.Attribute) and (
            func.attr == "getenv" or (func.attr == "get" and _is_environ(func.value))
        ):
            return _is_model_dir_constant(node.args[0])
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return _is_model_dir_constant(node.slice)
    return False


def _is_dir(node: ast.expr, names: set[str]) -> bool:
    """An expression whose value is the model directory (possibly wrapped in Path() or str())."""
    if _is_env_read(node):
        return True
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in _WRAPPERS and len(node.args) == 1:
            return _is_dir(node.args[0], names)
        if name in {"resolve", "absolute"} and isinstance(func, ast.Attribute) and not node.args:
            return _is_dir(func.value, names)
    return False


def _literals(nodes: list[ast.expr], separator: str = "/") -> str | None:
    """The string constants in ``nodes`` joined by ``separator``; None if any is not a string constant."""
    parts: list[str] = []
    for node in nodes:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return None
        parts.append(node.value)
    return separator.join(parts) if parts else None


def _clean(relative: str | None) -> str | None:
    if relative is None:
        return None
    relative = relative.replace("\\", "/").lstrip("/")
    while relative.startswith("./"):
        relative = relative[2:]
    return relative or None


def _joined(node: ast.AST, names: set[str]) -> str | None:
    """The literal relative path if ``node`` joins the model directory with string constants."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in {"join", "Path", "PurePath"} and len(node.args) > 1 and _is_dir(node.args[0], names):
            return _clean(_literals(node.args[1:]))
        if name == "joinpath" and isinstance(func, ast.Attribute) and _is_dir(func.value, names):
            return _clean(_literals(node.args))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Add):
        chain: list[ast.expr] = []
        left: ast.expr = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, type(node.op)):
            chain.insert(0, left.right)
            left = left.left
        if _is_dir(left, names):
            separator = "/" if isinstance(node.op, ast.Div) else ""
            return _clean(_literals(chain, separator))
    if isinstance(node, ast.JoinedStr) and len(node.values) > 1:
        head, *tail = node.values
        if isinstance(head, ast.FormattedValue) and _is_dir(head.value, names):
            return _clean(_literals(tail, ""))
    return None
