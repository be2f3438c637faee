"""Request payloads given on a magic's line or in its cell: checked locally before anything is sent.

- Text that starts with ``{`` or ``[`` must be valid JSON; otherwise the error names the position
  (as ``--test`` does), instead of the scoring script answering 500.
- Objects (``--data $payload``) must be sent as JSON: arrays and other values with ``.tolist()``
  (numpy, pandas Series) are converted; anything else is refused with our error.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .._errors import UsageError
from ..scoring import jsonable
from ..scoring._request import dataframe_request

__all__ = ["jsonable", "payload_value"]

_QUOTE_HINT = (
    "Quote the whole JSON in single quotes on the line, e.g. --data '{\"data\": [[1, 2]]}' "
    "(unquoted, the line's splitting drops its double quotes), or pass a variable (--data $payload)."
)


def json_text(text: str, where: str) -> str:
    """``text`` unchanged, after checking that it is valid JSON when it looks like JSON."""
    if not text.lstrip().startswith(("{", "[")):
        return text
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        hint = _QUOTE_HINT if where.startswith("--") else "Fix the JSON of the cell at that position."
        raise UsageError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos}).",
            hint=hint,
        ) from None
    return text


def payload_value(value: Any, where: str) -> Any:
    """A request given as text (checked when it looks like JSON), bytes, a path, or an object (made
    JSON-ready)."""
    if isinstance(value, str):
        return json_text(value, where)
    if isinstance(value, (bytes, bytearray, os.PathLike)):
        return value
    return jsonable(dataframe_request(value), where)
