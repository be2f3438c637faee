"""Run a scoring script's ``init()`` then ``run(request)`` once, the way the Azure ML inference server does.

Started by :mod:`jupyter_mlep.scoring._smoke` in a fresh interpreter (possibly another Python,
even an older one): ``python _child.py CONFIG.json``. It imports only the standard library up
front, so the test costs little more than the script's own work. Events (one JSON object per
line) go to the file named in the config; whatever the script prints goes to this process's
stdout and stderr, which the parent captures separately.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

_THIS_FILE = os.path.abspath(__file__)
_RAWHTTP_MODULES = ("azureml_inference_server_http.api.aml_request", "azureml.contrib.services.aml_request")


class _Refused(Exception):
    """The inference server would refuse the script, or answer the request with an error status."""

    def __init__(self, stage: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.status = status


class _Events:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the process lifetime

    def emit(self, **event: Any) -> None:
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()


def _keep(filename: str) -> bool:
    return os.path.abspath(filename) != _THIS_FILE and not filename.startswith("<frozen importlib")


def _prune(te: traceback.TracebackException, seen: set | None = None) -> None:  # type: ignore[type-arg]
    """Remove this module's frames and import machinery frames, through the whole exception chain."""
    seen = set() if seen is None else seen
    if id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if _keep(f.filename)])
    for other in (te.__cause__, te.__context__, *(getattr(te, "exceptions", None) or ())):
        if other is not None:
            _prune(other, seen)


def _describe(exc: BaseException) -> dict[str, str]:
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    _prune(te)
    try:
        message = str(exc)
    except Exception:
        message = "<the exception's message could not be printed>"
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return {"type": name, "message": message, "traceback": "".join(te.format())}


def _load(script: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("entry_module", script)
    if spec is None or spec.loader is None:
        raise _Refused("import", f"{script} cannot be loaded as a Python module.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw_requested() -> bool:
    return any(getattr(sys.modules.get(name), "_rawHttpRequested", False) for name in _RAWHTTP_MODULES)


def _schema_decorated(run: Callable[..., Any]) -> bool:
    util = sys.modules.get("inference_schema.schema_util")
    return bool(util is not None and util.is_schema_decorated(run))


def _analyze(module: Any) -> dict[str, Any]:
    """What the inference server checks at start-up (``UserScript._analyze_run``)."""
    import inspect

    for name in ("init", "run"):
        if not hasattr(module, name):
            raise _Refused(
                "import", f"The script does not define {name}(): the inference server refuses to start."
            )
    run = module.run
    try:
        params = list(inspect.signature(run).parameters.values())
    except (TypeError, ValueError) as exc:
        raise _Refused("import", f"run is not a function the inference server can inspect: {exc}") from None
    allowed = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind not in allowed for p in params):
        raise _Refused("import", "run() cannot accept positional-only arguments, *args, or **kwargs.")
    headers = any(p.name == "request_headers" for p in params)
    inputs = [p for p in params if p.name != "request_headers"]
    if not inputs:
        other = 'other than "request_headers"' if headers else "for input data"
        raise _Refused("import", f"run() needs to accept an argument {other}.")
    raw, schema = _raw_requested(), _schema_decorated(run)
    if raw and schema:
        raise _Refused("import", "run() cannot be decorated with both @rawhttp and @input_schema.")
    mode = "rawhttp" if raw else "input-schema" if schema else "json-string"
    names = [p.name for p in inputs]
    defaults = {p.name: p.default for p in inputs if p.default is not inspect.Parameter.empty}
    return {"mode": mode, "names": names, "defaults": defaults, "headers": headers}


def _arguments(plan: dict[str, Any], body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments the server's input parser would build for a POST of ``body``."""
    names: list[str] = plan["names"]
    if plan["mode"] == "json-string":
        try:
            return {names[0]: str(body, "utf-8")}
        except UnicodeDecodeError as exc:
            raise _Refused("request", f"Input cannot be decoded as UTF-8: {exc}", 400) from None
    if plan["mode"] == "input-schema":
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            what = (
                f"could not be decoded as JSON: {exc}" if body else "is empty. Expecting a JSON dictionary."
            )
            raise _Refused("request", f"POST body {what}", 400) from None
        if not isinstance(parsed, dict):
            raise _Refused("request", "POST body should be a JSON dictionary.", 400)
        arguments = {}
        for name in names:
            if name in parsed:
                arguments[name] = parsed[name]
            elif name in plan["defaults"]:
                arguments[name] = plan["defaults"][name]
            else:
                raise _Refused("request", f"A value is not provided for the {name!r} parameter.", 400)
        return arguments
    raise AssertionError(plan["mode"])


def _response(value: Any) -> dict[str, Any]:
    """Turn run()'s return value into what the server would send (JSON, or a Flask response as is)."""
    kind = type(value)
    if any(c.__module__.split(".")[0] in ("werkzeug", "flask") for c in kind.__mro__) and hasattr(
        value, "get_data"
    ):
        data = value.get_data()
        content_type = value.headers.get("Content-Type", "")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return {
                "status": value.status_code,
                "content_type": content_type,
                "base64": base64.b64encode(data).decode(),
            }
        return {"status": value.status_code, "content_type": content_type, "text": text}
    try:
        return {"status": 200, "content_type": "application/json", "json": json.dumps(value)}
    except (TypeError, ValueError) as exc:
        name = (
            kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        )
        raise _Refused(
            "response", f"run() returned a {name}, which the server cannot send as JSON: {exc}", 500
        ) from None


def _invoke(run: Callable[..., Any], plan: dict[str, Any], body: bytes, headers: dict[str, str]) -> Any:
    if plan["mode"] != "rawhttp":
        arguments = _arguments(plan, body, headers)
        if plan["headers"]:
            arguments["request_headers"] = dict(headers)
        start = time.perf_counter()
        return run(**arguments), time.perf_counter() - start
    try:
        import flask
    except ImportError as exc:
        raise _Refused(
            "request",
            "run() is decorated with @rawhttp, so it receives a Flask request object, but flask cannot be "
            f"imported in {sys.executable} ({exc}). Install azureml-inference-server-http in that "
            "environment (it brings Flask), or test with a Python that has it.",
        ) from None
    app = flask.Flask("jupyter_mlep_score_test")
    with app.test_request_context("/score", method="POST", data=body, headers=headers):
        request = flask.request._get_current_object()  # type: ignore[attr-defined]
        arguments = {plan["names"][0]: request}
        if plan["headers"]:
            arguments["request_headers"] = dict(request.headers)
        start = time.perf_counter()
        return run(**arguments), time.perf_counter() - start


def main(config_path: str) -> None:
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    events = _Events(config["events"])
    sys.path[0] = config["app_root"]  # the script's folder instead of ours, as AML_APP_ROOT is for the server
    sys.dont_write_bytecode = True  # leave no __pycache__ next to the user's script
    with open(config["body"], "rb") as f:
        body = f.read()
    headers: dict[str, str] = config["headers"]
    events.emit(event="start", python=sys.executable, version=sys.version.split()[0])
    stage = "import"
    try:
        events.emit(event="begin", stage=stage)
        start = time.perf_counter()
        module = _load(config["script"])
        load_ms = (time.perf_counter() - start) * 1000
        plan = _analyze(module)
        events.emit(event="end", stage=stage, ms=load_ms, mode=plan["mode"])
        stage = "init"
        events.emit(event="begin", stage=stage)
        start = time.perf_counter()
        module.init()
        events.emit(event="end", stage=stage, ms=(time.perf_counter() - start) * 1000)
        stage = "run"
        events.emit(event="begin", stage=stage)
        value, seconds = _invoke(module.run, plan, body, headers)
        events.emit(event="end", stage=stage, ms=seconds * 1000)
        stage = "response"
        events.emit(event="result", **_response(value))
    except _Refused as refused:
        events.emit(event="refused", stage=refused.stage, message=refused.message, status=refused.status)
    except BaseException as exc:
        events.emit(event="error", stage=stage, **_describe(exc))
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    # Leave at once: a thread the script started must not keep the test waiting.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
