"""The request of a smoke test: from a JSON file, a notebook ``$variable``, a literal, or a Python value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import UsageError

__all__ = ["RequestValue", "read_request", "request_body"]

RequestValue = bytes | str | Mapping[str, Any] | list[Any]


def request_body(value: Any) -> bytes:
    """The HTTP body for ``value``: bytes as they are, str as UTF-8, a dict or list as JSON."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, Mapping | list | tuple | int | float | bool) or value is None:
        try:
            return json.dumps(value if not isinstance(value, Mapping) else dict(value)).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"The request cannot be sent as JSON: {exc}.",
                hint="Use plain dicts, lists, strings and numbers (e.g. array.tolist()), or pass the JSON text.",
            ) from None
    kind = type(value)
    raise UsageError(
        f"A request must be a dict, list, str or bytes, not {kind.__module__}.{kind.__qualname__}.",
        hint="Convert it first, e.g. df.to_json(orient='split') or array.tolist().",
    )


def read_request(spec: str) -> bytes:
    """Resolve a ``--test REQUEST`` argument: a JSON file or literal JSON (the magic reads
    ``$variable`` itself). Anything else is a usage error naming what was tried."""
    if spec.startswith("$"):
        raise UsageError(
            f"--test {spec}: $variables work only in the %%score_script magic.",
            hint="Pass a JSON file or literal JSON.",
        )
    if spec.lstrip()[:1] not in ("{", "[", '"'):
        path = Path(spec).expanduser()
        try:
            return path.read_bytes()
        except IsADirectoryError:
            raise UsageError(f"--test {spec} is a folder, not a request file.") from None
        except OSError:
            pass  # not a file: maybe literal JSON
    try:
        json.loads(spec)
    except ValueError as exc:
        if spec.lstrip()[:1] in ("{", "[", '"'):
            raise UsageError(
                f"--test: the literal request is not valid JSON: {exc}.",
                hint="Quote the whole JSON in the magic's line, e.g. --test '{\"data\": [[1, 2]]}'",
            ) from None
        raise UsageError(
            f"--test {spec}: no such file, and not valid JSON either.",
            hint="Pass a JSON file or literal JSON (quoted); in %%score_script, also a $variable.",
        ) from None
    return spec.encode("utf-8")
