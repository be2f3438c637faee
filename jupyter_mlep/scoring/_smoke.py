"""Smoke-test a scoring script: ``init()`` then ``run(request)`` in a fresh subprocess.

The child (:mod:`._child`) sees what the Azure ML inference server would give it:
``AZUREML_MODEL_DIR``, ``AZUREML_ENTRY_SCRIPT``, ``AML_APP_ROOT`` (its working directory and
first ``sys.path`` entry) and the request passed the way the server passes it. The user's kernel
stays clean; a hanging script is killed after ``timeout`` seconds or on KeyboardInterrupt,
together with any process it started.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import ScoreScriptError, ScoreTestError, UsageError
from ._models import ScoreTestResult
from ._request import RequestValue, request_body

__all__ = ["DEFAULT_TIMEOUT", "resolve_model_dir", "smoke_test_score_script"]

DEFAULT_TIMEOUT = 300.0
_CHILD = Path(__file__).with_name("_child.py")
_STAGES = {
    "import": "importing the script",
    "init": "init()",
    "run": "run()",
    "request": "passing the request to run()",
    "response": "sending run()'s result back",
}
_CONSEQUENCES = {
    "import": "The deployment would fail to start.",
    "init": "The deployment would fail to start: the inference server exits when init() raises.",
    "run": "The endpoint would answer HTTP 500 ('An unexpected error occurred in scoring script').",
}


def resolve_model_dir(model_dir: str | os.PathLike[str] | None) -> Path | None:
    """The absolute model folder, or a usage error saying what is wrong with it."""
    if model_dir is None:
        return None
    path = Path(model_dir).expanduser().resolve()
    if path.is_file():
        raise UsageError(
            f"The model folder {model_dir} is a file.",
            hint=f"Azure ML puts a single-file model directly in AZUREML_MODEL_DIR: use --model-dir {path.parent}",
        )
    if not path.is_dir():
        raise UsageError(
            f"The model folder {model_dir} does not exist.",
            hint="Pass the folder AZUREML_MODEL_DIR should point to (--model-dir DIR).",
        )
    return path


def smoke_test_score_script(
    path: str | os.PathLike[str],
    request: RequestValue,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    env_vars: Mapping[str, str] | None = None,
    python: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> ScoreTestResult:
    """Run ``init()`` then ``run(request)`` of the script at ``path`` in a fresh ``python`` process.

    ``request`` is the request body: bytes or str as sent, a dict or list is sent as JSON.
    Raises :class:`~jupyter_mlep.ScoreTestError` when importing, ``init()`` or ``run()`` fails,
    the result cannot be sent as JSON, or the test takes longer than ``timeout`` seconds.
    """
    script = Path(path).expanduser().resolve()
    if not script.is_file():
        raise ScoreScriptError(
            f"The scoring script {path} does not exist.", hint="Check the path and try again."
        )
    body = request_body(request)
    folder = resolve_model_dir(model_dir)
    interpreter = _interpreter(python)
    all_headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    env = _environment(script, folder, env_vars)
    with tempfile.TemporaryDirectory(prefix="jupyter-mlep-test-") as tmp:
        work = Path(tmp)
        (work / "body").write_bytes(body)
        config = {
            "script": str(script),
            "app_root": str(script.parent),
            "body": str(work / "body"),
            "events": str(work / "events.jsonl"),
            "headers": all_headers,
        }
        (work / "config.json").write_text(json.dumps(config), encoding="utf-8")
        started = time.perf_counter()
        with open(work / "output", "wb") as output:
            returncode = _run_child(
                [interpreter, str(_CHILD), str(work / "config.json")], script, env, output, timeout
            )
        total_ms = (time.perf_counter() - started) * 1000
        printed = (work / "output").read_bytes().decode("utf-8", errors="replace")
        events = _read_events(work / "events.jsonl")
    return _result(script, events, printed, total_ms, returncode, timeout)


def _interpreter(python: str | os.PathLike[str] | None) -> str:
    """An absolute interpreter path (the child runs in another folder), or a name looked up on PATH."""
    if python is None:
        return sys.executable
    name = os.fspath(python)
    if os.sep in name or (os.altsep and os.altsep in name):
        return os.path.abspath(os.path.expanduser(name))
    return shutil.which(name) or name


def _environment(script: Path, model_dir: Path | None, env_vars: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    if model_dir is not None:
        env["AZUREML_MODEL_DIR"] = str(model_dir)
    env["AZUREML_ENTRY_SCRIPT"] = script.name
    env["AML_APP_ROOT"] = str(script.parent)
    env["PYTHONUNBUFFERED"] = "1"  # keep stdout and stderr in the order they were written
    env.setdefault("PYTHONIOENCODING", "utf-8")
    env.update(env_vars or {})
    return env


def _run_child(
    command: list[str], script: Path, env: dict[str, str], output: Any, timeout: float
) -> int | None:
    """Run the child; returns its exit code, or None when it was killed after ``timeout`` seconds."""
    posix = os.name == "posix"
    try:
        process = subprocess.Popen(
            command,
            cwd=script.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=posix,
        )
    except OSError as exc:
        raise UsageError(
            f"Cannot start the Python interpreter {command[0]}: {exc.strerror or exc}.",
            hint="Pass the path of an existing python executable (--python).",
        ) from None
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        _kill(process, posix)


def _kill(process: subprocess.Popen[bytes], posix: bool) -> None:
    """Kill the child and everything it started (its own session), then reap it."""
    if posix:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.kill()
    process.wait()


def _read_events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            break  # a line cut short by a killed process
    return events


def _result(
    script: Path,
    events: list[dict[str, Any]],
    printed: str,
    total_ms: float,
    returncode: int | None,
    timeout: float,
) -> ScoreTestResult:
    times = {e["stage"]: float(e["ms"]) for e in events if e["event"] == "end"}
    last = events[-1] if events else {}
    name = script.name
    if last.get("event") == "error":
        stage = last["stage"]
        raise ScoreTestError(
            f"{name}: {_STAGES.get(stage, stage)} raised {last['type']}: {last['message']}",
            hint=_CONSEQUENCES.get(stage),
            user_traceback=last["traceback"],
            output=printed,
        )
    if last.get("event") == "refused":
        status = last.get("status")
        hint = f"The endpoint would answer HTTP {status}." if status else _CONSEQUENCES.get(last["stage"])
        raise ScoreTestError(f"{name}: {last['message']}", hint=hint, output=printed)
    if last.get("event") != "result":
        begun = [e["stage"] for e in events if e["event"] == "begin"]
        where = _STAGES.get(begun[-1], begun[-1]) if begun else "starting Python"
        if returncode is None:
            raise ScoreTestError(
                f"{name}: the test did not finish within {timeout:g} s; it was still in {where}. "
                "The test process was stopped.",
                hint="Make init() and run() return, or allow more time (timeout / --timeout SECONDS).",
                output=printed,
            )
        raise ScoreTestError(
            f"{name}: the test process exited with code {returncode} during {where} without reporting a result.",
            hint="The script (or a library it uses) ended the process, e.g. with os._exit() or a crash.",
            output=printed,
        )
    start = next(e for e in events if e["event"] == "start")
    mode = next(e["mode"] for e in events if e["event"] == "end" and e["stage"] == "import")
    content_type = str(last["content_type"])
    response: Any
    if "json" in last:
        response = json.loads(last["json"])
    elif "base64" in last:
        response = base64.b64decode(last["base64"])
    elif content_type.startswith("application/json"):
        try:
            response = json.loads(last["text"])
        except ValueError:
            response = last["text"]
    else:
        response = last["text"]
    return ScoreTestResult(
        response=response,
        load_ms=times.get("import", 0.0),
        init_ms=times.get("init", 0.0),
        run_ms=times.get("run", 0.0),
        total_ms=total_ms,
        output=printed,
        python=str(start["python"]),
        python_version=str(start["version"]),
        input_mode=mode,
        status_code=int(last["status"]),
        content_type=content_type,
    )
