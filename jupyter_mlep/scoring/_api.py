"""``check_score_script``: the static check and, with a request, the smoke test, in one call."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from .._errors import ScoreScriptError, ScoreTestError
from ._check import check_score_script_source
from ._models import ScoreScript
from ._request import RequestValue
from ._smoke import DEFAULT_TIMEOUT, resolve_model_dir, smoke_test_score_script

__all__ = ["check_score_script"]


def check_score_script(
    path: str | os.PathLike[str],
    *,
    model_dir: str | os.PathLike[str] | None = None,
    request: RequestValue | None = None,
    static: bool = True,
    env_vars: Mapping[str, str] | None = None,
    python: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
    in_kernel: bool = False,
) -> ScoreScript:
    """Check the scoring script at ``path`` against the Azure ML inference server contract.

    ``model_dir`` is the folder ``AZUREML_MODEL_DIR`` points to. With ``request``, also run
    ``init()`` and ``run(request)`` in a fresh process (see :func:`smoke_test_score_script`).
    ``static=False`` skips the static check. ``in_kernel=True`` runs the test in this process
    instead (see :func:`~jupyter_mlep.scoring._inkernel.run_in_kernel`: debuggers and ``%debug``
    reach the script; its exceptions propagate unchanged). Raises :class:`~jupyter_mlep.ScoreScriptError`
    (or :class:`~jupyter_mlep.ScoreTestError`) listing what is wrong.
    """
    script_path = Path(path)
    folder = resolve_model_dir(model_dir)
    if static:
        try:
            source = script_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScoreScriptError(
                f"The scoring script {path} does not exist.", hint="Check the path."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScoreScriptError(f"The scoring script {path} cannot be read: {exc}") from None
        script = check_score_script_source(source, script_path, model_dir=folder)
    else:
        script = ScoreScript(path=script_path, model_dir=folder, checked=False)
    if request is None:
        return script
    if in_kernel:
        from ._inkernel import run_in_kernel

        if progress is not None:
            progress(f"Testing {path}: init() then run(request) in this kernel...")
        return dataclasses.replace(
            script, test=run_in_kernel(script_path, request, model_dir=folder, env_vars=env_vars)
        )
    if progress is not None:
        where = f" with AZUREML_MODEL_DIR={folder}" if folder else ""
        progress(f"Testing {path}: init() then run(request) in a fresh process{where}...")
    try:
        result = smoke_test_score_script(
            script_path, request, model_dir=folder, env_vars=env_vars, python=python, timeout=timeout
        )
    except ScoreTestError as exc:
        extra = _explanations(script, folder, env_vars)
        if not extra:
            raise
        raise ScoreTestError(
            exc.message,
            hint="\n".join(filter(None, [exc.hint, *extra])),
            user_traceback=exc.user_traceback,
            output=exc.output,
        ) from None
    return dataclasses.replace(script, test=result)


def _explanations(script: ScoreScript, folder: Path | None, env_vars: Mapping[str, str] | None) -> list[str]:
    """What the static check knows that may explain a failed test."""
    extra = []
    unset = folder is None and "AZUREML_MODEL_DIR" not in {**os.environ, **(env_vars or {})}
    if unset and script.reads_model_dir:
        extra.append(
            "The script reads AZUREML_MODEL_DIR, which is not set: pass --model-dir DIR (model_dir=...)."
        )
    if script.warnings:
        extra.append("The check also found:")
        extra.extend(f"  warning: {finding}" for finding in script.warnings)
    return extra
