"""A batch worker: ``init()`` once, then ``run(mini_batch)`` for each mini-batch its driver sends.

Runs in the deployment's environment with the standard library only (pandas and MLflow are
imported when the scoring script's results or an MLflow model need them). It is started by the
driver (``_batch_driver.py``), forked, as if run as ``python worker.py <config.json> <index>``; both talk JSON lines
on the worker's standard input and a copy of its standard output, while what the scoring script
prints or logs (at the deployment's ``logging_level``) goes to
``logs/user/stdout/process<index>.stdout.txt``.

Messages: the worker sends ``{"ready": true}`` (or ``{"init_error": …}``), then for each
``{"id", "files"}`` it receives ``{"id", "ok": true, "count", "rows", "errors"}`` or
``{"id", "ok": false, "error", "trace"}``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

_WRONG_TYPE = (
    "The run() method of the entry script must return a list or a pandas DataFrame, whose length is the "
    "number of items that succeeded; it returned {kind}."
)
_MLFLOW_READERS = {".csv": "read_csv", ".parquet": "read_parquet", ".pq": "read_parquet"}


class _Script:
    """The user's scoring script."""

    def __init__(self, path: str) -> None:
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        assert spec is not None and spec.loader is not None
        self.module = importlib.util.module_from_spec(spec)
        sys.modules[Path(path).stem] = self.module
        spec.loader.exec_module(self.module)

    def init(self) -> None:
        if hasattr(self.module, "init"):
            self.module.init()

    def run(self, files: list[str]) -> tuple[int, str, list[str]]:
        result = self.module.run(files)
        if type(result).__name__ == "DataFrame" and hasattr(result, "to_csv"):
            return len(result), result.to_csv(header=False, index=False), []
        if isinstance(result, list):
            return len(result), "".join(f"{item}\n" for item in result), []
        raise TypeError(_WRONG_TYPE.format(kind=type(result).__name__))


class _MlflowModel:
    """An MLflow model without code: each CSV or Parquet file is one DataFrame, one ``predict``."""

    def __init__(self, model_dir: str) -> None:
        self.root = _mlflow_root(Path(model_dir))
        self.model: Any = None

    def init(self) -> None:
        import mlflow.pyfunc

        self.model = mlflow.pyfunc.load_model(str(self.root))

    def run(self, files: list[str]) -> tuple[int, str, list[str]]:
        import pandas as pd  # type: ignore[import-untyped]

        frames, errors = [], []
        for name in files:
            try:
                reader = _MLFLOW_READERS.get(Path(name).suffix.lower())
                if reader is None:
                    raise ValueError(
                        "only CSV and Parquet files can be scored by an MLflow model without code"
                    )
                data = getattr(pd, reader)(name)
                predictions = self.model.predict(data)
                values = (
                    predictions.iloc[:, 0]
                    if hasattr(predictions, "iloc") and predictions.ndim > 1
                    else predictions
                )
                frames.append(
                    pd.DataFrame(
                        {"row": range(len(data)), "prediction": list(values), "file_name": Path(name).name}
                    )
                )
            except Exception as exc:
                errors.append(f"{Path(name).name}: {type(exc).__name__}: {exc}")
        rows = pd.concat(frames).to_csv(header=False, index=False) if frames else ""
        return len(frames), rows, errors


def _mlflow_root(base: Path) -> Path:
    if (base / "MLmodel").is_file():
        return base
    found = sorted(path.parent for path in base.glob("*/MLmodel")) or sorted(base.glob("*/*/MLmodel"))
    if len(found) != 1:
        raise RuntimeError(f"No single MLflow model (a folder with an MLmodel file) under {base}.")
    return found[0].resolve()


def _send(channel: Any, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    index = int(sys.argv[2])
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    log_path = Path(config["logs"]) / "user" / "stdout" / f"process{index:03d}.stdout.txt"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    level = {"Warning": "WARNING", "Info": "INFO", "Debug": "DEBUG"}.get(config["logging_level"], "INFO")
    logging.basicConfig(
        level=level, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    os.chdir(config["code"])
    sys.path.insert(0, config["code"])
    try:
        scorer: Any = _Script(config["script"]) if config["script"] else _MlflowModel(config["model_dir"])
        scorer.init()
    except BaseException as exc:
        traceback.print_exc()
        _send(channel, {"init_error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
        return
    _send(channel, {"ready": True})
    for line in sys.stdin:
        job = json.loads(line)
        try:
            count, rows, errors = scorer.run(job["files"])
        except Exception as exc:
            traceback.print_exc()
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            reply["retry"] = not isinstance(exc, TypeError) or not str(exc).startswith("The run() method")
        else:
            reply = {
                "ok": True,
                "count": count,
                "rows": rows if config["append_row"] else "",
                "errors": errors,
            }
        _send(channel, {"id": job["id"], **reply})


if __name__ == "__main__":
    main()
