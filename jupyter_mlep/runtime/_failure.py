"""Why an inference server did not start, in one line, read from the end of its log.

The server prints the scoring script's traceback, then its own wrapper exceptions
(``UserScriptImportException``, ``UserScriptException``), then gunicorn's "worker failed to
boot". The real cause is the script's own exception: ``ModuleNotFoundError: No module named
'lightgbm'`` while importing ``score.py``, or what ``init()`` raised. :func:`failure_headline` finds
it; when the log holds no traceback (a probe that timed out, a killed server) the runtime's own
reason stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["failure_headline"]

_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')
_SERVER_PACKAGE = "azureml_inference_server_http"
_EXIT = re.compile(r"the inference server exited with code \d+")
_START = "starting azmlinfsrv"


@dataclass(frozen=True)
class _Frame:
    path: str
    line: int
    func: str

    @property
    def user(self) -> bool:
        """A frame of the deployment's own code (not the interpreter's, a library's or the server's)."""
        path = self.path.replace("\\", "/")
        return not (path.startswith("<") or "/site-packages/" in path or "/lib/python" in path)

    @property
    def name(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _Traceback:
    frames: tuple[_Frame, ...]
    exception: str

    @property
    def from_server(self) -> bool:
        return self.exception.startswith(_SERVER_PACKAGE + ".")


def _tracebacks(text: str) -> list[_Traceback]:
    """Every traceback in ``text`` (frames and the exception line), in the order printed."""
    found: list[_Traceback] = []
    frames: list[_Frame] | None = None
    for line in text.splitlines():
        if "Traceback (most recent call last):" in line:
            frames = []
            continue
        if frames is None:
            continue
        match = _FRAME.match(line)
        if match:
            frames.append(_Frame(match["path"], int(match["line"]), match["func"]))
        elif line.strip() and not line[:1].isspace():
            found.append(_Traceback(tuple(frames), line.strip()))
            frames = None
    return found


def _where(frames: tuple[_Frame, ...]) -> str:
    """Where the deployment's code raised: ``while importing score.py, line 1``, ``raised by init() at …``."""
    user = [frame for frame in frames if frame.user]
    if not user:
        return ""
    outer, inner = user[0], user[-1]
    place = f"{inner.name}, line {inner.line}"
    if outer.func == "<module>":
        return f"while importing {place}"
    if outer.func in ("init", "run"):
        return f"raised by {outer.func}() at {place}"
    return f"raised at {place}"


def _cause(text: str) -> str:
    """The scoring script's exception in the last server start logged in ``text`` ('' if none)."""
    start = text.rfind(_START)
    if start >= 0:
        text = text[text.find("\n", start) + 1 :]
    tracebacks = _tracebacks(text)
    if not tracebacks:
        return ""
    own = [item for item in tracebacks if not item.from_server]
    chosen = own[0] if own else tracebacks[-1]
    exception = chosen.exception
    if chosen.from_server:  # the server's own words (e.g. "does not have a run() function defined")
        head, colon, rest = exception.partition(":")
        exception = (head.rsplit(".", 1)[-1] + colon + rest).rstrip(".")
    where = _where(chosen.frames)
    return f"{exception} ({where})" if where else exception


def failure_headline(log_tail: str, reason: str) -> str:
    """One line saying why a server did not start: the scoring script's exception found in
    ``log_tail`` (the end of the server's log) with where it was raised, followed by how the server
    ended (from ``reason``); ``reason`` unchanged when the log holds no traceback."""
    cause = _cause(log_tail)
    if not cause:
        return reason
    ended = _EXIT.search(reason)
    return f"{cause}; {ended.group(0)}" if ended else cause
