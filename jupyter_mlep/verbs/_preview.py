"""A bounded view of a large scoring answer: the notebook shows its first rows and its total size,
while the value (a list, dict or str) holds everything."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PREVIEW_ITEMS", "preview"]

PREVIEW_ITEMS = 10
"""Items (list rows or dict keys) shown of a large answer."""
_MAX_CHARS = 4000
_ROW_CHARS = 200


def _size(value: Any) -> int:
    try:
        return len(json.dumps(value))
    except (TypeError, ValueError):
        return len(str(value))


def _human(size: int) -> str:
    for unit in ("characters", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:,} {unit}" if unit == "characters" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return str(size)


def _row(text: str) -> str:
    return text if len(text) <= _ROW_CHARS else text[: _ROW_CHARS - 1] + "…"


class _Preview:
    """Mixin: IPython shows :meth:`preview_text` instead of the whole value."""

    def preview_text(self) -> str:
        """The first rows and the total size."""
        size = _human(_size(self))
        if isinstance(self, str):
            return f"{str.__str__(self)[:_MAX_CHARS]}…\n({size} in all; the value holds everything)"
        if isinstance(self, dict):
            rows = [f"  {key!r}: {_row(repr(item))}," for key, item in list(self.items())[:PREVIEW_ITEMS]]
            return (
                "{\n"
                + "\n".join(rows)
                + f"\n  …\n}}\n({len(self):,} keys, {size} of JSON in all; the value holds everything)"
            )
        items = list(self)[:PREVIEW_ITEMS]  # type: ignore[call-overload]
        rows = [f"  {_row(repr(item))}," for item in items]
        count = len(self)  # type: ignore[arg-type]
        return (
            "[\n"
            + "\n".join(rows)
            + f"\n  …\n]\n({count:,} items, {size} of JSON in all; the value holds everything)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.preview_text())


class PreviewList(_Preview, list):  # type: ignore[type-arg]
    """A list shown as a preview."""


class PreviewDict(_Preview, dict):  # type: ignore[type-arg]
    """A dict shown as a preview."""


class PreviewStr(_Preview, str):
    """A str shown as a preview."""


def preview(value: Any) -> Any:
    """``value`` as is when small, else the same value in a type that IPython shows bounded."""
    if isinstance(value, list) and (len(value) > PREVIEW_ITEMS * 5 or _size(value) > _MAX_CHARS):
        return PreviewList(value)
    if isinstance(value, dict) and (len(value) > PREVIEW_ITEMS * 5 or _size(value) > _MAX_CHARS):
        return PreviewDict(value)
    if isinstance(value, str) and len(value) > _MAX_CHARS:
        return PreviewStr(value)
    return value
