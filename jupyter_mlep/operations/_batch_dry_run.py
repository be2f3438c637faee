"""``dry_run``: score the first mini-batch of an input folder in this process, with no job, to
debug a batch scoring script's ``init()`` and ``run(mini_batch)`` quickly (or an MLflow model
scored without code).

The scoring script is imported afresh from the deployment's code folder (the local one of a YAML
file, or the registered one, downloaded), with ``AZUREML_MODEL_DIR`` pointing at the model, the
code folder on ``sys.path`` and as working directory while it runs; all three are put back after.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._errors import ScoreScriptError, UsageError
from ..rest import RestClient
from ..runtime._batch_worker import _WRONG_TYPE
from ..specs import BatchDeployment
from ._assets import local_code_folder, local_model_path
from ._batch_results import DryRunResult

__all__ = ["check_batch_script", "dry_run", "input_files"]


def check_batch_script(script: Path) -> None:
    """Refuse a batch scoring script that does not parse or lacks ``init()`` or ``run(mini_batch)``."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    except SyntaxError as exc:
        raise ScoreScriptError(
            f"The scoring script {script} does not parse: {exc.msg} (line {exc.lineno}).",
            hint="Fix the syntax error, then deploy again.",
        ) from None
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for name, params in (("init", 0), ("run", 1)):
        node = functions.get(name)
        if node is None or len(node.args.args) < params:
            signature = "run(mini_batch)" if name == "run" else "init()"
            raise ScoreScriptError(
                f"The batch scoring script {script} has no {signature} function.",
                hint=f"Define {signature} at the top level of the script: init() loads the model once per "
                "worker; run(mini_batch) gets a list of file paths and returns a list or a DataFrame.",
            )


def input_files(folder: Path) -> list[Path]:
    """The files of an input folder as a batch job sees them: not recursive, in a stable order."""
    if not folder.exists():
        raise UsageError(
            f"The input {folder} does not exist.", hint="Pass a folder of files to score: --input ./data."
        )
    if folder.is_file():
        return [folder]
    files = sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
    if not files:
        raise UsageError(
            f"The input folder {folder} holds no files to score.",
            hint="Put the files directly in it (sub-folders are not read), or pass another --input.",
        )
    return files


@contextlib.contextmanager
def _scoring_process(code: Path | None, model: Path | None) -> Iterator[None]:
    """``AZUREML_MODEL_DIR``, ``sys.path`` and the working directory as a batch worker has them."""
    saved_env, saved_cwd, saved_path = os.environ.get("AZUREML_MODEL_DIR"), Path.cwd(), list(sys.path)
    if model is not None:  # a model folder is $AZUREML_MODEL_DIR/<its name>, a file is in it
        os.environ["AZUREML_MODEL_DIR"] = str(model.parent)
    if code is not None:
        sys.path.insert(0, str(code))
        os.chdir(code)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("AZUREML_MODEL_DIR", None)
        else:
            os.environ["AZUREML_MODEL_DIR"] = saved_env


def _import(script: Path) -> Any:
    name = f"_mlep_batch_{script.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mlflow_scorer(model: Path) -> tuple[Any, Any]:
    """``init`` and ``run`` of an MLflow model scored without code: the batch worker's own scorer
    (one ``predict`` per CSV or Parquet file), its rows read back as Azure writes them."""
    from ..runtime._batch_worker import _MlflowModel

    scorer = _MlflowModel(str(model if model.is_dir() else model.parent))

    def run(files: list[str]) -> Any:
        pd: Any = importlib.import_module("pandas")
        _count, rows, errors = scorer.run(files)
        if errors:
            raise ValueError("; ".join(errors))
        return pd.read_csv(io.StringIO(rows), header=None, names=["row", "prediction", "file_name"])

    return scorer.init, run


def _remote_parts(client: RestClient, spec: BatchDeployment, folder: Path) -> tuple[Path | None, Path | None]:
    """The registered code folder and model of a deployment, downloaded below ``folder``."""
    from ..rest._downloads import download_asset

    code = model = None
    if spec.code_configuration is not None and spec.code_configuration.code is not None:
        code = download_asset(client, str(spec.code_configuration.code), folder / "code")
    if spec.model is not None:
        model = download_asset(client, str(spec.model), folder / "model")
    return code, model


def dry_run(
    client: RestClient | None,
    spec: BatchDeployment,
    input: str | Path,
    *,
    mini_batch_size: int | None = None,
) -> DryRunResult:
    """Run ``init()`` then ``run()`` on the first mini-batch of ``input`` in this process; what it returned.

    ``spec`` is a deployment read from a YAML file (its local code and model are used), or one read
    from the service (its registered code and model are downloaded first, with ``client``).
    """
    files = input_files(Path(input).expanduser().resolve())[: mini_batch_size or spec.mini_batch_size]
    with tempfile.TemporaryDirectory(prefix="mlep-dry-run-") as tmp:
        code, model = local_code_folder(spec), local_model_path(spec)
        remote = (code is None and spec.code_configuration is not None) or (
            model is None and spec.model is not None
        )
        if remote:
            if client is None:
                raise UsageError(
                    "A deployment read from the service needs a client to download its code and model."
                )
            code, model = _remote_parts(client, spec, Path(tmp))
        script = None
        if spec.code_configuration is not None and code is not None:
            script = code / spec.code_configuration.scoring_script
            check_batch_script(script)
        elif model is None:
            raise UsageError(
                f"Batch deployment {spec.name!r} has neither a scoring script nor a model to dry-run."
            )
        with _scoring_process(code, model):
            started = time.perf_counter()
            if script is not None:
                module = _import(script)
                init, run = getattr(module, "init", lambda: None), module.run
            else:
                assert model is not None
                init, run = _mlflow_scorer(model)
            init()
            ready = time.perf_counter()
            result = run([str(path) for path in files])
            ended = time.perf_counter()
    if not (isinstance(result, list) or type(result).__name__ == "DataFrame"):
        raise ScoreScriptError(
            _WRONG_TYPE.format(kind=type(result).__name__),
            hint="Return one entry per scored file (a list), or a DataFrame of the predictions.",
        )
    return DryRunResult(
        script=script.name if script is not None else "(MLflow model, no code)",
        files=[str(path) for path in files],
        result=result,
        seconds=ended - ready,
        init_seconds=ready - started,
    )
