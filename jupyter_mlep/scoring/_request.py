"""The request of a smoke test: from a JSON file, a notebook ``$variable``, a literal, or a Python value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import UsageError

__all__ = ["RequestValue", "dataframe_request", "jsonable", "read_request", "request_body"]

RequestValue = bytes | str | Mapping[str, Any] | list[Any]


def is_dataframe(value: Any) -> bool:
    """True for a pandas DataFrame (recognised without importing pandas)."""
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] == "pandas"


def dataframe_request(value: Any) -> Any:
    """A request given as a pandas DataFrame becomes Azure's MLflow input,
    ``{"input_data": {"columns", "index", "data"}}`` (the split orientation); anything else is returned as is."""
    if is_dataframe(value):
        return {"input_data": jsonable(value.to_dict(orient="split"), "The DataFrame")}
    return value


def jsonable(value: Any, where: str = "The request") -> Any:
    """``value`` made of plain dicts, lists, strings and numbers: arrays and other values with
    ``.tolist()`` (numpy, pandas Series) converted; anything else a :class:`UsageError` naming it.
    The one rule for a request given as a Python value (``--test``, ``invoke``, sample requests)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if is_dataframe(value):
        return jsonable(value.to_dict(orient="split"), where)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item, where) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item, where) for item in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return jsonable(tolist(), where)
    kind = type(value)
    raise UsageError(
        f"{where} holds a {kind.__module__}.{kind.__qualname__}, which cannot be sent as JSON.",
        hint="Convert it first, e.g. array.tolist() or df.to_dict(orient='split').",
    )


def request_body(value: Any) -> bytes:
    """The HTTP body for ``value``: bytes as they are, str as UTF-8, anything else as JSON (see
    :func:`jsonable`)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(jsonable(dataframe_request(value))).encode("utf-8")


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
