"""Result objects of the scoring-script check and smoke test, with text and HTML renderings.

Nothing here holds a model object or calls ``repr()`` on a value the script produced: the
response is kept as the JSON a client would receive, decoded.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["Finding", "InputMode", "Level", "ScoreScript", "ScoreTestResult"]

InputMode = Literal["json-string", "input-schema", "rawhttp"]
Level = Literal["error", "warning", "note"]

_INPUT_MODE_TEXT: dict[str, str] = {
    "json-string": "the request body as a string",
    "input-schema": "the JSON body's fields as keyword arguments (@input_schema)",
    "rawhttp": "the Flask request object (@rawhttp)",
}
_RESPONSE_CHARS = 300
_OUTPUT_LINES = 12


@dataclass(frozen=True)
class Finding:
    """One problem or remark about a scoring script.

    ``level`` is ``"error"`` (the inference server would refuse the script or fail every
    request), ``"warning"`` (very likely a mistake) or ``"note"`` (worth knowing).
    """

    level: Level
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


@dataclass(frozen=True)
class ScoreTestResult:
    """What happened when ``init()`` then ``run(request)`` ran in a fresh process.

    ``response`` is what a client of the endpoint would receive (decoded JSON, or text/bytes
    for a raw response); ``output`` is everything the script printed (stdout and stderr).
    Times are in milliseconds: ``load_ms`` imports the script, ``total_ms`` is the wall time
    of the whole test process including interpreter start-up.
    """

    response: Any
    load_ms: float
    init_ms: float
    run_ms: float
    total_ms: float
    output: str
    python: str
    python_version: str
    input_mode: InputMode
    status_code: int = 200
    content_type: str = "application/json"

    @property
    def overhead_ms(self) -> float:
        """Time not spent in the script itself (process start-up, request set-up, result transfer)."""
        return max(0.0, self.total_ms - self.load_ms - self.init_ms - self.run_ms)

    def response_text(self, limit: int | None = _RESPONSE_CHARS) -> str:
        """The response as text (JSON for a JSON response), cut to ``limit`` characters."""
        if isinstance(self.response, bytes):
            text = f"<{len(self.response)} bytes>"
        elif self.content_type.startswith("application/json"):
            text = json.dumps(self.response)
        else:
            text = str(self.response)
        if limit is not None and len(text) > limit:
            text = text[:limit] + f"... ({len(text)} characters)"
        return text

    def _timing_text(self) -> str:
        return (
            f"load {_ms(self.load_ms)}, init() {_ms(self.init_ms)}, run() {_ms(self.run_ms)}, "
            f"overhead {_ms(self.overhead_ms)}"
        )

    def _lines(self) -> list[str]:
        lines = [
            f"test passed in {_ms(self.total_ms)} (Python {self.python_version}, {self.python})",
            f"  {self._timing_text()}",
            f"  run() received {_INPUT_MODE_TEXT[self.input_mode]}",
        ]
        status = "" if self.status_code == 200 else f" (HTTP {self.status_code}, {self.content_type})"
        lines.append(f"  response{status}: {self.response_text()}")
        lines.extend(_output_lines(self.output))
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return (
            f"<ScoreTestResult status={self.status_code} init_ms={self.init_ms:.1f} run_ms={self.run_ms:.1f} "
            f"total_ms={self.total_ms:.1f} response={self.response_text(80)}>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        return _test_html(self)


@dataclass(frozen=True)
class ScoreScript:
    """A scoring script as checked (and possibly smoke-tested) by jupyter_mlep.

    ``checked`` is False when the static check was skipped. ``checks`` lists what passed,
    ``findings`` the warnings and notes (errors raise :class:`~jupyter_mlep.ScoreScriptError`
    instead). ``input_mode`` is how the inference server passes a request to ``run()``, when
    the check could tell. ``test`` is the smoke-test result, or None.
    """

    path: Path
    model_dir: Path | None = None
    checked: bool = True
    checks: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    input_mode: InputMode | None = None
    reads_model_dir: bool = False
    test: ScoreTestResult | None = field(default=None)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of level ``"warning"``."""
        return tuple(f for f in self.findings if f.level == "warning")

    def _summary(self) -> str:
        if not self.checked:
            return f"{self.path}: not checked (--no-check)"
        counts = [f"{len(self.checks)} checks passed"]
        for level in ("warning", "note"):
            n = sum(1 for f in self.findings if f.level == level)
            if n:
                counts.append(f"{n} {level}{'s' if n > 1 else ''}")
        return f"{self.path}: " + ", ".join(counts)

    def __str__(self) -> str:
        lines = [self._summary()]
        lines.extend(f"  ok       {check}" for check in self.checks)
        lines.extend(f"  {finding.level:<8} {finding}" for finding in self.findings)
        if self.test is not None:
            lines.extend(self.test._lines())
        return "\n".join(lines)

    def __repr__(self) -> str:
        test = "" if self.test is None else f" test={self.test!r}"
        return (
            f"<ScoreScript {str(self.path)!r} checks={len(self.checks)} findings={len(self.findings)}{test}>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        colours = {"warning": "#b45309", "note": "#555"}
        items = [f"<li>&#10003; {html.escape(check)}</li>" for check in self.checks]
        items += [
            f'<li style="color:{colours[f.level]}"><b>{f.level}</b> {html.escape(str(f))}</li>'
            for f in self.findings
        ]
        parts = [f"<div><b>{html.escape(self._summary())}</b>"]
        if items:
            parts.append('<ul style="margin:0.2em 0">' + "".join(items) + "</ul>")
        if self.test is not None:
            parts.append(_test_html(self.test))
        parts.append("</div>")
        return "".join(parts)


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _output_lines(output: str) -> list[str]:
    lines = output.rstrip().splitlines()
    if not lines:
        return ["  printed: nothing"]
    shown = lines[-_OUTPUT_LINES:]
    head = f"  printed ({len(lines)} lines" + (
        f", last {len(shown)} shown; all in .test.output):" if len(shown) < len(lines) else "):"
    )
    return [head, *(f"    | {line}" for line in shown)]


def _test_html(test: ScoreTestResult) -> str:
    status = (
        "" if test.status_code == 200 else f" (HTTP {test.status_code}, {html.escape(test.content_type)})"
    )
    output = test.output.rstrip()
    printed = (
        f"<details><summary>printed ({len(output.splitlines())} lines)</summary>"
        f'<pre style="margin:0">{html.escape(output)}</pre></details>'
        if output
        else "<div>printed: nothing</div>"
    )
    return (
        f"<div><b>test passed in {_ms(test.total_ms)}</b> "
        f"(Python {html.escape(test.python_version)}, <code>{html.escape(test.python)}</code>)<br>"
        f"{html.escape(test._timing_text())}<br>"
        f"run() received {html.escape(_INPUT_MODE_TEXT[test.input_mode])}<br>"
        f'response{status}: <pre style="margin:0">{html.escape(test.response_text())}</pre>'
        f"{printed}</div>"
    )
