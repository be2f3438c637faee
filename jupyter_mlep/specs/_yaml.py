"""Reading Azure ML CLI v2 YAML files: syntax errors, ``{{PLACEHOLDER}}`` templates, kinds, ``--set``.

A file is read in four steps: the text is parsed (a syntax error names the line); ``--set``
style overrides are applied; any string that still holds a ``{{NAME}}`` template raises a
:class:`~jupyter_mlep._errors.PlaceholderError` (``${{inputs.x}}`` job expressions are not
templates); and the kind of spec is read from ``$schema``, or from ``type:`` when ``$schema``
is absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from .._errors import PlaceholderError, SpecError

__all__ = ["KINDS", "SCHEMA_URL", "apply_overrides", "detect_kind", "parse_overrides", "read_yaml"]

#: The kinds of spec this package reads, named as in the ``$schema`` URLs.
KINDS = (
    "managedOnlineEndpoint",
    "kubernetesOnlineEndpoint",
    "managedOnlineDeployment",
    "kubernetesOnlineDeployment",
    "model",
    "environment",
    "code",
    "data",
    "amlCompute",
    "computeInstance",
    "azureBlob",
    "commandJob",
    "sweepJob",
    "batchEndpoint",
    "batchDeployment",
)
#: The ``$schema`` URL written into YAML dicts, filled with a kind.
SCHEMA_URL = "https://azuremlschemas.azureedge.net/latest/{kind}.schema.json"

_PLACEHOLDER = re.compile(r"(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SCHEMA_KIND = re.compile(r"/([A-Za-z]+)\.schema\.json\s*$")
_TYPE_KINDS = {
    "sweep": "sweepJob",
    "command": "commandJob",
    "kubernetes": "kubernetesOnlineDeployment",
    "managed": "managedOnlineDeployment",
    "uri_file": "data",
    "uri_folder": "data",
    "mltable": "data",
    "amlcompute": "amlCompute",
    "computeinstance": "computeInstance",
    "azure_blob": "azureBlob",
    "model": "batchDeployment",
}
_SCHEMA_ALIASES = {"modelbatchdeployment": "batchDeployment"}
"""Schemas that name a kind read by another kind's class (the model batch deployment schema)."""
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The mapping in a YAML file, with ``overrides`` (dotted keys, as ``--set``) applied.

    Raises :class:`SpecError` for unreadable files and syntax errors (with the line) and
    :class:`PlaceholderError` for ``{{NAME}}`` templates left in the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"Cannot read the spec file {path}: {exc.strerror or exc}.") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        found = _template_lines(text)
        if found:
            raise _placeholder_error(path, found, parsed=False) from None
        raise _syntax_error(path, exc) from None
    if data is None:
        raise SpecError(f"The spec file {path} is empty.", hint="Write the Azure ML YAML spec into it.")
    if not isinstance(data, dict):
        raise SpecError(
            f"The spec file {path} must hold a YAML mapping (key: value lines), not a {type(data).__name__}."
        )
    if overrides:
        data = apply_overrides(data, overrides)
    mapping: dict[str, Any] = data
    templated = sorted(set(_templates_in(mapping)))
    if templated:
        raise _placeholder_error(path, templated, parsed=True)
    return mapping


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with each dotted key of ``overrides`` set, like the CLI's ``--set a.b=v``."""
    result: dict[str, Any] = _deep_copy(data)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node: Any = result
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise SpecError(f"Cannot set {dotted!r}: {part!r} is not an index of the list there.")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    if not isinstance(node.get(part), (dict, list)):
                        node[part] = {}
                    node = node[part]
            else:
                raise SpecError(f"Cannot set {dotted!r}: {'.'.join(parts[:i])!r} is not a mapping.")
    return result


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["instance_count=2", "traffic.blue=100"]`` (the CLI's ``--set``) as overrides.

    Each value is read as YAML, so ``2`` is a number, ``true`` a boolean and ``a b`` a string.
    """
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(
                f"Cannot read the override {item!r}.", hint="Write it as key=value, e.g. instance_count=2."
            )
        try:
            overrides[key.strip()] = yaml.load(text, Loader=_Loader) if text.strip() else ""
        except yaml.YAMLError:
            overrides[key.strip()] = text
    return overrides


def detect_kind(data: Mapping[str, Any], path: str | Path | None = None) -> str:
    """The kind of spec (one of :data:`KINDS`) named by ``$schema``, else by ``type:``."""
    where = f" in {path}" if path else ""
    schema = data.get("$schema")
    if isinstance(schema, str) and schema.strip():
        match = _SCHEMA_KIND.search(schema)
        kind = match.group(1) if match else None
        kind = _SCHEMA_ALIASES.get((kind or "").lower(), kind)
        for known in KINDS:
            if kind is not None and known.lower() == kind.lower():
                return known
        raise SpecError(
            f"The $schema {schema!r}{where} is not a kind jupyter_mlep reads.",
            hint="Supported: " + ", ".join(f"{kind}.schema.json" for kind in KINDS) + ".",
        )
    kind_type = data.get("type")
    if isinstance(kind_type, str) and kind_type.strip().lower() in _TYPE_KINDS:
        return _TYPE_KINDS[kind_type.strip().lower()]
    if "channels" in data or "dependencies" in data:
        raise SpecError(
            f"{path or 'This file'} looks like a conda environment file, not an Azure ML spec.",
            hint="Refer to it from an environment (conda_file: <file>) instead of loading it.",
        )
    raise SpecError(
        f"Cannot tell what kind of Azure ML spec this is{where}: it has no $schema and no type.",
        hint=f"Add a $schema line such as {SCHEMA_URL.format(kind='managedOnlineDeployment')}, "
        "or use the load_* function of its kind (load_endpoint, load_deployment, load_model, …).",
    )


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def _template_lines(text: str) -> list[tuple[str, int]]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        found += [(match.group(1), number) for match in _PLACEHOLDER.finditer(line)]
    return found


def _templates_in(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _templates_in(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _templates_in(item, f"{where}[{index}]")
    elif isinstance(value, str):
        yield from ((match.group(1), where) for match in _PLACEHOLDER.finditer(value))


def _placeholder_error(path: Path, found: list[tuple[str, Any]], *, parsed: bool) -> PlaceholderError:
    names = list(dict.fromkeys(name for name, _ in found))
    where = ", ".join(f"{{{{{name}}}}} ({'key' if parsed else 'line'} {at})" for name, at in found)
    fill = " ".join(f"-e 's/{{{{{name}}}}}/<value>/g'" for name in names)
    if parsed:
        keys = list(dict.fromkeys(str(at) for _, at in found))
        how = (
            f"Replace it in the file (for example sed {fill}), or pass the value explicitly: "
            f"overrides={{{keys[0]!r}: ...}} (the CLI's --set {keys[0]}=...)"
            + (", or endpoint_name=... for a deployment." if "endpoint_name" in keys else ".")
        )
    else:
        how = (
            f"This template is not valid YAML until it is filled in: replace it in a copy of the file "
            f"(for example sed {fill}), then load that copy."
        )
    return PlaceholderError(
        f"The spec file {path} still holds the template placeholder(s) {where}.",
        hint=how,
    )


def _syntax_error(path: Path, exc: yaml.YAMLError) -> SpecError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    detail = f"{context}, {problem}" if context else problem
    return SpecError(
        f"The spec file {path} is not valid YAML{line}: {detail}.",
        hint="Check the indentation and quoting around that line.",
    )
