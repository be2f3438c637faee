"""Conda files checked before anything is built: valid YAML (errors name the file and the line), a
``dependencies`` list, conda entries of the form ``name[=version]``, pip entries that are requirements.

Used by the operations layer (a local ``conda_file``, before any upload) and by the local workspace
(an EnvironmentVersion's ``condaFile`` text, answered with a 400).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement

from .._errors import SpecValidationError

__all__ = ["check_conda", "load_conda_file", "load_conda_text", "yaml_error_text"]

_CONDA_ENTRY = re.compile(
    r"^(?:[\w.\-/]+::)?[A-Za-z0-9_][A-Za-z0-9_.\-]*"
    r"(?:\[[^\]]*\]|\s*[=<>!~]\S*(?:\s+\S+)?|\s+[0-9*]\S*(?:\s+\S+)?)?$"
)
_HINT = (
    "A conda file is YAML: name:, channels: [conda-forge], dependencies: [python=3.11, pip, "
    "{pip: [scikit-learn==1.5.2, ...]}]."
)


def yaml_error_text(exc: yaml.YAMLError) -> str:
    """``line 4, column 3: could not find expected ':'`` (1-based, without PyYAML's stream name)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load_conda_text(text: str, where: str) -> dict[str, Any]:
    """The mapping of a conda file's text; ``where`` names it in errors (a path, ``properties.condaFile``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecValidationError(
            f"The conda file {where} is not valid YAML: {yaml_error_text(exc)}.", hint=_HINT
        ) from None
    if not isinstance(data, dict):
        raise SpecValidationError(
            f"The conda file {where} must hold a mapping with 'dependencies' "
            f"(it holds {type(data).__name__}).",
            hint=_HINT,
        )
    return data


def load_conda_file(path: Path) -> dict[str, Any]:
    """Read and check a local conda file (it must exist)."""
    if not path.is_file():
        raise SpecValidationError(
            f"The conda file {path} does not exist.",
            hint="Paths in a YAML file are relative to that file's folder; fix conda_file or create the file.",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecValidationError(f"Cannot read the conda file {path}: {exc}.", hint=_HINT) from None
    data = load_conda_text(text, str(path))
    check_conda(data, str(path), text=text)
    return data


def check_conda(conda: Mapping[str, Any], where: str, *, text: str | None = None) -> tuple[str, ...]:
    """Check the dependencies of a conda mapping; the pip requirements it names.

    Conda entries must read ``name``, ``name=version`` or ``channel::name>=version``; pip entries
    must parse as requirements (PEP 508; options such as ``--extra-index-url``, URLs and local
    paths are passed through unchecked). ``text`` (the file's text) lets errors give a line.
    """
    dependencies = conda.get("dependencies")
    if dependencies is None:
        dependencies = []
    if not isinstance(dependencies, Sequence) or isinstance(dependencies, str):
        raise SpecValidationError(
            f"In the conda file {where}, 'dependencies' must be a list{_line_of(text, 'dependencies')}.",
            hint=_HINT,
        )
    pip: list[str] = []
    for item in dependencies:
        if isinstance(item, Mapping):
            unknown = sorted(str(key) for key in item if key != "pip")
            if unknown:
                raise SpecValidationError(
                    f"In the conda file {where}, the dependency entry {dict(item)!r} is not understood"
                    f"{_line_of(text, unknown[0])}: only a {{pip: [...]}} list may appear as a mapping.",
                    hint=_HINT,
                )
            entries = item.get("pip") or []
            if not isinstance(entries, Sequence) or isinstance(entries, str):
                raise SpecValidationError(
                    f"In the conda file {where}, 'pip' must be a list of requirements{_line_of(text, 'pip')}.",
                    hint=_HINT,
                )
            for entry in entries:
                pip.append(_check_pip(entry, where, text))
            continue
        if not isinstance(item, str) or not _CONDA_ENTRY.match(item.strip()):
            raise SpecValidationError(
                f"In the conda file {where}, the dependency {item!r} is not a conda package "
                f"specification{_line_of(text, str(item))}.",
                hint="Write name, name=version or name>=version (e.g. numpy=1.26); pip packages go under "
                "- pip: [...].",
            )
    return tuple(requirement for requirement in pip if requirement)


def _check_pip(entry: object, where: str, text: str | None) -> str:
    if not isinstance(entry, str):
        raise SpecValidationError(
            f"In the conda file {where}, the pip entry {entry!r} is not a string{_line_of(text, str(entry))}.",
            hint="Write each pip requirement as text, e.g. - scikit-learn==1.5.2",
        )
    requirement = entry.split(" #")[0].strip()
    if not requirement or requirement.startswith(("-", ".", "/", "~")) or "://" in requirement.split("@")[0]:
        return requirement
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        raise SpecValidationError(
            f"In the conda file {where}, the pip requirement {requirement!r} is not valid"
            f"{_line_of(text, requirement)}: {str(exc).splitlines()[0]}.",
            hint="Write name, name==version or name>=version (PEP 508), e.g. scikit-learn==1.5.2.",
        ) from None
    return requirement


def _line_of(text: str | None, needle: str) -> str:
    if not text or not needle:
        return ""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return f" (line {number})"
    return ""
