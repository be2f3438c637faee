"""MLflow models deployed without a scoring script or an environment ("no-code").

A scikit-learn model saved with ``mlflow.sklearn.save_model`` (signature and input example) in a
temporary folder:

- **deploy → first score**: ``%endpoint deploy bench-nc dN --model <folder>`` (no ``--code``, no
  ``--env``) then ``%endpoint invoke --data $df`` of a 3-row DataFrame, through the magics against a
  local workspace started for the run (process runtime, its own ``MLEP_HOME``); the environment is
  built by a first deploy (cold, reported), then the median of ``--runs`` new deployments with it
  cached;
- **added latency of the generated script**: the same model served by the process runtime twice,
  in the same environment: the generated scoring script, and a hand-written ``run()`` that parses
  the same ``{"input_data": split}`` payload into a DataFrame and calls the model's ``predict``
  (no schema checks). p50 of sequential requests on each server's Unix socket, interleaved rounds;
  target: the difference ≤ 0.5 ms.

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_nocode.py [--runs N] [--requests N]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from _common import print_table

HAND_WRITTEN = """\
import json
import os
import pickle

import pandas as pd


def init():
    global model
    root = os.environ["AZUREML_MODEL_DIR"]
    folder = next(os.path.join(root, name) for name in os.listdir(root))
    with open(os.path.join(folder, "model.pkl"), "rb") as handle:
        model = pickle.load(handle)


def run(raw_data):
    split = json.loads(raw_data)["input_data"]
    frame = pd.DataFrame(split["data"], columns=split["columns"], index=split.get("index"))
    return model.predict(frame).tolist()
"""


def save_model(folder: Path) -> Any:
    """Train and save the benchmark's model; the 3-row DataFrame it is scored with."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris(as_frame=True)
    features = iris.data.rename(columns=lambda name: name.replace(" (cm)", "").replace(" ", "_"))
    model = LogisticRegression(max_iter=500).fit(features, iris.target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model,
            folder,
            signature=infer_signature(features, model.predict(features)),
            input_example=features.head(3),
            serialization_format="cloudpickle",
        )
    return pd.DataFrame(features.iloc[[0, 60, 120]])


def deploy_to_first_score(model: Path, frame: Any, runs: int, home: Path) -> tuple[float, list[float]]:
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_mlep.workspace import stop

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlep")
    shell.user_ns["df"] = frame

    def once(name: str) -> float:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            shell.run_line_magic("endpoint", f"deploy bench-nc {name} --model {model}")
            answer = shell.run_line_magic("endpoint", f"invoke bench-nc --deployment {name} --data $df")
        assert answer == [0, 1, 2], answer
        return time.perf_counter() - started

    try:
        cold = once("cold")
        return cold, [once(f"run-{i}") for i in range(runs)]
    finally:
        with contextlib.suppress(Exception):
            shell.run_line_magic("endpoint", "delete bench-nc")
        stop(home)


def added_latency(
    model: Path, frame: Any, requests: int, rounds: int, folder: Path
) -> dict[str, list[float]]:
    from jupyter_mlep.runtime import (
        DeploymentSpec,
        ProbeSettings,
        get_backend,
        model_requirements,
        preflight,
        uds_request,
    )
    from jupyter_mlep.specs._mlflow import read_mlflow_model
    from jupyter_mlep.workspace.nocode import NO_CODE_FOLDER, NO_CODE_SCRIPT

    info = read_mlflow_model(model)
    assert info is not None
    wanted = model_requirements(
        info.root, loader_module=info.loader_module, python_version=info.python_version
    )
    environment = preflight(wanted, sys.executable).environment("bench")
    hand = folder / "hand"
    hand.mkdir()
    (hand / "score.py").write_text(HAND_WRITTEN)
    probe = ProbeSettings(initial_delay=0, period=1, timeout=2, failure_threshold=120)
    backend = get_backend("process", reporter=None)
    servers = {
        "generated": DeploymentSpec("bench", "generated", code=NO_CODE_FOLDER, scoring_script=NO_CODE_SCRIPT,
                                    environment=environment, model=model, readiness_probe=probe),
        "hand-written": DeploymentSpec("bench", "hand", code=hand, scoring_script="score.py",
                                       environment=environment, model=model, readiness_probe=probe),
    }  # fmt: skip
    body = json.dumps({"input_data": frame.to_dict(orient="split")}).encode()
    sockets = {name: backend.start(spec).socket for name, spec in servers.items()}
    try:

        def latencies(socket: str, count: int) -> list[float]:
            values = []
            for _ in range(count):
                started = time.perf_counter()
                status, _, answer = uds_request(
                    socket, "POST", "/score", body, {"Content-Type": "application/json"}, timeout=10
                )
                values.append(time.perf_counter() - started)
                assert status == 200 and json.loads(answer) == [0, 1, 2], answer
            return values

        for socket in sockets.values():
            latencies(socket, 100)  # warm up
        p50: dict[str, list[float]] = {name: [] for name in sockets}
        for _ in range(rounds):  # interleaved, so both see the same machine load
            for name, socket in sockets.items():
                p50[name].append(statistics.median(latencies(socket, requests)))
        return p50
    finally:
        for spec in servers.values():
            with contextlib.suppress(Exception):
                backend.stop(spec.endpoint, spec.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="no-code deploys with the environment cached")
    parser.add_argument("--requests", type=int, default=300, help="requests per latency round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update(MLEP_HOME=str(folder / "home"), MLEP_RUNTIME="process", MLEP_TARGET="local")
        model = folder / "iris-model"
        frame = save_model(model)
        cold, runs = deploy_to_first_score(model, frame, args.runs, folder / "home")
        p50 = added_latency(model, frame, args.requests, args.rounds, folder)
    generated, hand = statistics.median(p50["generated"]), statistics.median(p50["hand-written"])
    print_table(
        "MLflow no-code deployments (local workspace, process runtime)",
        [
            (
                f"no-code %endpoint deploy → first score, environment cached (median of {args.runs})",
                f"{statistics.median(runs):.2f} s",
                f"min {min(runs):.2f} s, max {max(runs):.2f} s",
            ),
            ("first no-code deploy (endpoint created, environment built)", f"{cold:.1f} s", ""),
            ("p50 /score, generated scoring script (3-row DataFrame)", f"{generated * 1000:.2f} ms", ""),
            ("p50 /score, hand-written run() of the same model", f"{hand * 1000:.2f} ms", "baseline"),
            (
                "added latency of the generated script (p50)",
                f"{(generated - hand) * 1000:.2f} ms",
                "target ≤ 0.5 ms",
            ),
        ],
    )


if __name__ == "__main__":
    main()
