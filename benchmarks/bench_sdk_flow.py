"""A blue/green rollout by the official Azure ML SDK against the local workspace, and the same
rollout through ``jupyter_mlep``'s operations (what ``%endpoint`` runs), in the same run.

Against a local workspace serving HTTPS started for the run (process runtime, its own
``MLEP_HOME``): create a key endpoint, deploy blue (model-1) with all the traffic, score, deploy
green (model-2), send it 10 %, score green, delete the endpoint. A warm-up of each flow builds the
environment and registers the code first (not counted); then the flows alternate, each on a new
endpoint. The SDK runs in its own environment (``.sdk-venv``) as ``tests/sdk/scripts/blue_green.py``
does it: its figure is the time from its first call to its last (and, separately, the whole
process with the SDK's import); the models reach it by datastore URI (uploaded once before).

Run: ``scripts/bench benchmarks/bench_sdk_flow.py`` (or ``.venv/bin/python benchmarks/bench_sdk_flow.py [--runs N]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import print_table
from support.samples import AZURE_IMAGE, FIXTURES, SampleTree
from support.sdk import run_sdk_script, sdk_python
from support.workspace import process_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not sdk_python().exists():
        raise SystemExit(f"The SDK's environment is missing ({sdk_python()}): run scripts/install.")

    from jupyter_mlep import operations as ops
    from jupyter_mlep.rest import RestClient, datastore_container, default_datastore
    from jupyter_mlep.settings import resolve
    from jupyter_mlep.specs import load_deployment

    online = FIXTURES / "cli" / "endpoints" / "online"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["MLEP_TARGET"] = "local"
        with process_workspace(folder / "home", folder / "envs", tls=True) as info:
            client = RestClient.from_settings(resolve())
            with datastore_container(client, default_datastore(client)) as container:
                for model in ("model-1", "model-2"):
                    container.upload(online / model / "model", f"bench-models/{model}/model")
            models = "azureml://datastores/workspaceblobstore/paths/bench-models"

            def project_flow(name: str, check_script: bool = True) -> float:
                tree = SampleTree(folder / name, FIXTURES, name)
                start = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    ops.create_endpoint(client, name)
                    ops.deploy(
                        client,
                        load_deployment(tree.blue),
                        traffic=100,
                        timeout=900,
                        check_script=check_script,
                    )
                    assert ops.invoke(client, name, tree.payload()).body != [0.5, 0.5]
                    ops.deploy(client, load_deployment(tree.green), timeout=900, check_script=check_script)
                    ops.set_traffic(client, name, {"blue": 90, "green": 10})
                    assert ops.invoke(client, name, tree.payload(), deployment="green").body == [0.5, 0.5]
                    ops.delete_endpoint(client, name)
                return time.perf_counter() - start

            def sdk_flow(name: str) -> tuple[float, float, int]:
                tree = SampleTree(folder / name, FIXTURES, name)
                code = tree.sample.parents[1]
                arguments = {
                    "endpoint": name,
                    "request": str(tree.request),
                    "blue_model": f"{models}/model-1/model",
                    "green_model": f"{models}/model-2/model",
                    "blue_code": str(code / "model-1" / "onlinescoring"),
                    "green_code": str(code / "model-2" / "onlinescoring"),
                    "conda_file": str(online / "model-1" / "environment" / "conda.yaml"),
                    "image": AZURE_IMAGE,
                }
                start = time.perf_counter()
                run = run_sdk_script(info, "blue_green.py", arguments)
                wall = time.perf_counter() - start
                if run.status != 0 or not run.done:
                    raise RuntimeError(run.explain())
                return sum(call["seconds"] for call in run.calls), wall, len(run.calls)

            warm_project = project_flow("bench-ops-warm")
            warm_sdk = sdk_flow("bench-sdk-warm")
            project, unchecked, sdk_calls, sdk_wall = [], [], [], []
            calls = 0
            for i in range(args.runs):
                project.append(project_flow(f"bench-ops-{i}"))
                unchecked.append(project_flow(f"bench-raw-{i}", check_script=False))
                seconds, wall, calls = sdk_flow(f"bench-sdk-{i}")
                sdk_calls.append(seconds)
                sdk_wall.append(wall)
            client.close()

    def fmt(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s"

    print_table(
        f"Blue/green rollout against the local workspace over HTTPS (median of {args.runs})",
        [
            (
                "jupyter_mlep operations (what %endpoint runs)",
                fmt(project),
                "in-process client, script checked",
            ),
            ("the same without the scoring-script check", fmt(unchecked), "deploy(check_script=False)"),
            ("Azure ML SDK 1.35, its calls", fmt(sdk_calls), f"{calls} SDK calls, first to last"),
            ("Azure ML SDK 1.35, whole process", fmt(sdk_wall), "with interpreter start and SDK import"),
            ("warm-up (not counted)", f"{warm_project:.1f} s / {warm_sdk[1]:.1f} s", "jupyter_mlep / SDK"),
        ],
    )


if __name__ == "__main__":
    main()
