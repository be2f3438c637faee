"""How results draw themselves: the :class:`Result` base class and the table helpers it uses.

Every object a verb returns is a :class:`Result`. It owns its renderings: ``text()`` (the
``text/plain`` output and the command line's table), ``html()``, ``to_dict()`` (JSON, the command
line's ``--output json``; never a secret) and ``status_payload()`` (the machine-readable status output
that recipes and tests read, ``{"kind": …, **to_dict()}``). Widgets and the command line use the
same helpers from here; nothing else renders a result.
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = ["STATUS_MIME", "Result", "Table", "TableResult", "html_table", "text_table"]

STATUS_MIME = "application/vnd.jupyter-mlep.status+json"
"""The machine-readable status output, always shown next to text and HTML (never alone)."""

Table = tuple[Sequence[str], Sequence[Sequence[Any]]]
"""A table: its head and its rows."""


def text_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` under ``head`` as aligned plain text (``(none)`` without rows)."""
    if not rows:
        return "(none)"
    cells = [[str(c) for c in row] for row in [head, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def html_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` under ``head`` as an HTML table (cells escaped)."""
    esc = _html.escape
    parts = ["<table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in head), "</tr></thead><tbody>"]
    parts += ["<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    parts.append("</tbody></table>")
    return "".join(parts)


class Result:
    """Base of every result: subclasses set ``kind`` and implement :meth:`text` and :meth:`to_dict`;
    :meth:`html` defaults to the text in a ``<pre>``."""

    kind: ClassVar[str] = ""
    """The ``kind`` of the status output (``"endpoint"``, ``"traffic"``, ``"swagger"``…)."""

    def text(self) -> str:
        """The plain-text representation (also what the command line prints)."""
        raise NotImplementedError

    def html(self) -> str:
        """The HTML representation."""
        return f"<pre>{_html.escape(self.text())}</pre>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary without secrets (the command line's ``--output json``)."""
        raise NotImplementedError

    def status_payload(self) -> dict[str, Any]:
        """The status output: ``{"kind": …}`` and :meth:`to_dict`."""
        return {"kind": self.kind, **self.to_dict()}

    def mimebundle(self) -> dict[str, Any]:
        """Text, HTML and the status output."""
        return {"text/plain": self.text(), "text/html": self.html(), STATUS_MIME: self.status_payload()}

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.mimebundle()


class TableResult(Result):
    """A result drawn as a title over tables and optional footer lines: subclasses give
    :meth:`title`, :meth:`tables`, :meth:`to_dict` and ``kind`` (and :meth:`footer`)."""

    def title(self) -> str:
        """The first line."""
        raise NotImplementedError

    def tables(self) -> list[Table]:
        """The tables under the title: (head, rows) pairs."""
        raise NotImplementedError

    def footer(self) -> list[tuple[str, bool]]:
        """Lines after the tables as ``(text, bold)``; each is its own block in HTML."""
        return []

    def text(self) -> str:
        tables = "\n\n".join(text_table(head, rows) for head, rows in self.tables())
        extra = "".join(f"\n{line}" for line, _bold in self.footer())
        return f"{self.title()}\n{tables}{extra}"

    def html(self) -> str:
        esc = _html.escape
        parts = [f"<div><b>{esc(self.title())}</b>"]
        parts += [html_table(head, rows) for head, rows in self.tables()]
        parts += [
            f"<div><b>{esc(line)}</b></div>" if bold else f"<div>{esc(line)}</div>"
            for line, bold in self.footer()
        ]
        return "".join(parts) + "</div>"
