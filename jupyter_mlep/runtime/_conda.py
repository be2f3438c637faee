"""Conda environment files mapped to pip requirements, with a warning for whatever cannot be honoured."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .._errors import EnvironmentBuildError
from ..specs._conda import yaml_error_text

__all__ = ["CondaMapping", "EnvironmentWarning", "map_conda", "read_conda_file"]

# Conda packages that have no pip counterpart (system libraries, compilers, BLAS flavours).
_CONDA_ONLY = {
    "_libgcc_mutex", "_openmp_mutex", "blas", "ca-certificates", "certifi-conda", "cudatoolkit",
    "cudnn", "gcc", "gxx", "intel-openmp", "ld_impl_linux-64", "libblas", "libcblas", "libffi",
    "libgcc", "libgcc-ng", "libgfortran", "libgfortran-ng", "libgomp", "liblapack", "libstdcxx",
    "libstdcxx-ng", "libuuid", "mkl", "mkl-service", "ncurses", "nomkl", "openblas", "openssl",
    "readline", "sqlite", "tk", "tzdata", "xz", "zlib", "bzip2", "libzlib", "libnsl", "libxcrypt",
}  # fmt: skip
# Conda names whose pip distribution is called differently.
_RENAMED = {
    "pytorch": "torch",
    "py-xgboost": "xgboost",
    "pytorch-cpu": "torch",
    "matplotlib-base": "matplotlib",
}
_SPEC = re.compile(r"^(?:(?P<channel>[\w.\-]+)::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<rest>.*)$")


class EnvironmentWarning(UserWarning):
    """Part of an environment cannot be honoured on this machine (another Python, a conda-only package)."""


@dataclass(frozen=True)
class CondaMapping:
    """The pip requirements a conda file maps to, the Python it asks for, and what was not honoured."""

    requirements: tuple[str, ...]
    python: str | None
    warnings: tuple[str, ...]


def read_conda_file(source: Path | Mapping[str, Any]) -> dict[str, Any]:
    """Load a conda environment file (or accept an already parsed mapping)."""
    if isinstance(source, Mapping):
        return dict(source)
    try:
        data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvironmentBuildError(f"Cannot read the conda file {source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise EnvironmentBuildError(
            f"The conda file {source} is not valid YAML: {yaml_error_text(exc)}.",
            hint="Fix the file at that line (a conda file holds name:, channels: and dependencies:).",
        ) from None
    if not isinstance(data, dict):
        raise EnvironmentBuildError(f"The conda file {source} must hold a mapping with 'dependencies'.")
    return data


def map_conda(conda: Mapping[str, Any], *, python_version: str, emit: bool = True) -> CondaMapping:
    """Map a conda file to pip requirements for an interpreter of ``python_version`` (``3.11.7``).

    Conda pins become pip pins (``numpy=2.3.1`` → ``numpy==2.3.1``, ``numpy=2.3`` → ``numpy==2.3.*``).
    A Python pin other than ``python_version`` and conda-only packages give an
    :class:`EnvironmentWarning` (also returned in ``warnings``); ``emit=False`` only returns them.
    """
    requirements: list[str] = []
    notes: list[str] = []
    python: str | None = None
    dependencies = conda.get("dependencies") or []
    if not isinstance(dependencies, Sequence) or isinstance(dependencies, str):
        raise EnvironmentBuildError("The conda file's 'dependencies' must be a list.")
    for item in dependencies:
        if isinstance(item, Mapping):
            pip_items = item.get("pip") or []
            requirements.extend(str(req).strip() for req in pip_items if str(req).strip())
            continue
        match = _SPEC.match(str(item).strip())
        if not match:
            notes.append(f"conda dependency {item!r} is not understood and was left out")
            continue
        name, rest = match["name"].lower(), match["rest"].strip()
        if name == "python":
            python = _version_of(rest)
            if python and not _same_version(python, python_version):
                notes.append(
                    f"the conda file asks for Python {python}; this environment uses Python {python_version}, "
                    "the interpreter available here"
                )
            continue
        if name in _CONDA_ONLY:
            notes.append(f"conda package {name!r} has no pip equivalent and was left out")
            continue
        requirement, note = _pip_requirement(_RENAMED.get(name, name), rest)
        requirements.append(requirement)
        if note:
            notes.append(note)
    if emit:
        for note in notes:
            warnings.warn(EnvironmentWarning(note), stacklevel=3)
    return CondaMapping(tuple(requirements), python, tuple(notes))


def _pip_requirement(name: str, rest: str) -> tuple[str, str | None]:
    if not rest:
        return name, None
    if rest[0].isdigit():
        rest = "=" + re.sub(r"\s+", "=", rest)
    rest = rest.replace(" ", "")
    if rest.startswith(("<", ">", "!", "~", "==")):
        return name + rest, None
    if rest.startswith("="):
        parts = rest[1:].split("=")
        version, build = parts[0], parts[1] if len(parts) > 1 else ""
        note = f"the conda build string {build!r} of {name} was ignored" if build else None
        if version.endswith("*"):
            return f"{name}=={version.rstrip('.*')}.*", note
        if version.count(".") <= 1 and not re.search(r"[a-z]", version):
            return f"{name}=={version}.*", note
        return f"{name}=={version}", note
    return name + rest, None


def _version_of(rest: str) -> str | None:
    found = re.search(r"\d+(\.\d+)*", rest)
    return found.group(0) if found else None


def _same_version(requested: str, actual: str) -> bool:
    wanted = requested.split(".")
    return actual.split(".")[: len(wanted)] == wanted
