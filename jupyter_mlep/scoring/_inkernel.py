"""Run a scoring script's ``init()`` then ``run(request)`` in this process (the notebook's kernel).

The subprocess test (:mod:`._smoke`) isolates the script: a crash, a hang or a leaked global
cannot touch the kernel. Run in the kernel instead, the script is an ordinary module of it:
JupyterLab's visual debugger stops at breakpoints set in the script's file, and an exception
raised by ``init()`` or ``run()`` reaches the cell as it is, so ``%debug`` opens its frames. The
request reaches ``run()`` as the inference server would pass it (the same input parsing as the
subprocess test); ``AZUREML_MODEL_DIR``, ``AML_APP_ROOT`` and the given variables are set while
the script runs, then restored.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .._errors import ScoreScriptError, ScoreTestError
from . import _child
from ._models import ScoreTestResult
from ._request import RequestValue, request_body

__all__ = ["run_in_kernel"]


@contextlib.contextmanager
def _script_environment(
    script: Path, model_dir: Path | None, env_vars: Mapping[str, str] | None
) -> Iterator[None]:
    """The server's variables and ``sys.path`` entry while the script runs; restored afterwards."""
    values = {"AZUREML_ENTRY_SCRIPT": script.name, "AML_APP_ROOT": str(script.parent), **(env_vars or {})}
    if model_dir is not None:
        values["AZUREML_MODEL_DIR"] = str(model_dir)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    sys.path.insert(0, str(script.parent))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(script.parent))
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_in_kernel(
    path: str | os.PathLike[str],
    request: RequestValue,
    *,
    model_dir: Path | None = None,
    env_vars: Mapping[str, str] | None = None,
) -> ScoreTestResult:
    """Import the script at ``path``, call ``init()`` then ``run(request)`` here, and return the answer.

    Exceptions of the script propagate unchanged (for ``%debug``); what the inference server
    would refuse raises :class:`~jupyter_mlep.ScoreTestError`.
    """
    script = Path(path).expanduser().resolve()
    if not script.is_file():
        raise ScoreScriptError(f"The scoring script {path} does not exist.", hint="Check the path.")
    body = request_body(request)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    started = time.perf_counter()
    try:
        with _script_environment(script, model_dir, env_vars):
            module = _child._load(str(script))
            load_ms = (time.perf_counter() - started) * 1000
            plan = _child._analyze(module)
            begin = time.perf_counter()
            module.init()
            init_ms = (time.perf_counter() - begin) * 1000
            value, seconds = _child._invoke(module.run, plan, body, headers)
            sent = _child._response(value)
    except _child._Refused as refused:
        raise ScoreTestError(
            f"The inference server would refuse this ({refused.stage}): {refused.message}",
            hint="Fix the scoring script and run the cell again.",
        ) from None
    if "json" in sent:
        response: Any = json.loads(sent["json"])
    elif "base64" in sent:
        response = base64.b64decode(sent["base64"])
    else:
        response = sent["text"]
    return ScoreTestResult(
        response=response,
        load_ms=load_ms,
        init_ms=init_ms,
        run_ms=seconds * 1000,
        total_ms=(time.perf_counter() - started) * 1000,
        output="",
        python=sys.executable,
        python_version=sys.version.split()[0],
        input_mode=plan["mode"],
        status_code=int(sent["status"]),
        content_type=str(sent["content_type"]),
    )
