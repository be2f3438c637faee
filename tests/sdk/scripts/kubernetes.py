"""Kubernetes online endpoints through the SDK (the azureml-examples kubernetes notebook): the
Kubernetes compute, an endpoint on it, blue with resource requests and limits and its instance
type, invoke, scale, delete."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from azure.ai.ml.entities import (
    CodeConfiguration,
    Environment,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    Model,
    OnlineRequestSettings,
    ResourceRequirementsSettings,
    ResourceSettings,
)
from sdkcalls import Calls, arguments, datastore_container, expect, ml_client, run, upload_folder

ARGS = arguments()
ENDPOINT = ARGS["endpoint"]
WORK = Path(ARGS["work"])
REQUEST = str(WORK / "sample-request.json")
COMPUTE = "inferencecompute"


def main(calls: Calls) -> None:
    client = ml_client()
    expected = ARGS["expected"]
    calls(
        "compute.get(Kubernetes compute)",
        lambda: client.compute.get(COMPUTE),
        lambda c: (expect(c.type == "kubernetes", f"type {c.type}"), {"type": c.type})[1],
    )
    calls(
        "compute.list",
        lambda: [c.name for c in client.compute.list()],
        lambda names: (expect(COMPUTE in names, f"{names}"), names)[1],
    )
    container = datastore_container(calls, client)
    prefix = f"sdk-models/{uuid.uuid4().hex}/model"
    calls(
        "storage.upload_blob(model folder)",
        lambda: upload_folder(container, Path(ARGS["model_dir"]), prefix),
        len,
    )
    model = calls(
        "models.create_or_update",
        lambda: client.models.create_or_update(
            Model(name=f"{ENDPOINT}-model", path=f"azureml://datastores/workspaceblobstore/paths/{prefix}")
        ),
        lambda m: {"version": m.version},
    )
    endpoint = KubernetesOnlineEndpoint(
        name=ENDPOINT, compute=COMPUTE, auth_mode="key", tags={"tag1": "endpoint-tag1-value"}
    )
    calls(
        "online_endpoints.begin_create_or_update(kubernetes)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: (
            expect(e.compute.endswith(COMPUTE), f"compute {e.compute}"),
            {"compute": e.compute, "state": e.provisioning_state},
        )[1],
    )
    blue = KubernetesOnlineDeployment(
        name="blue",
        endpoint_name=ENDPOINT,
        model=model,
        code_configuration=CodeConfiguration(code=str(WORK / "blue"), scoring_script="score.py"),
        environment=Environment(conda_file=ARGS["conda_file"], image=ARGS["image"]),
        request_settings=OnlineRequestSettings(request_timeout_ms=3000, max_queue_wait_ms=3000),
        resources=ResourceRequirementsSettings(
            requests=ResourceSettings(cpu="0.1", memory="0.1Gi"),
            limits=ResourceSettings(cpu="0.2", memory="200Mi"),
        ),
        instance_type="defaultinstancetype",
        instance_count=1,
        tags={"tag1": "deployment-tag1-value"},
    )
    calls(
        "online_deployments.begin_create_or_update(kubernetes blue)",
        lambda: client.online_deployments.begin_create_or_update(blue).result(),
        lambda d: {"state": d.provisioning_state},
    )
    calls(
        "online_deployments.get(kubernetes blue)",
        lambda: client.online_deployments.get(name="blue", endpoint_name=ENDPOINT),
        lambda d: (
            expect(
                str(d.type).lower() == "kubernetes" and d.instance_type == "defaultinstancetype",
                f"{d.type} {d.instance_type}",
            ),
            expect(d.resources.limits.memory == "200Mi", f"limits {d.resources.limits}"),
            {"type": d.type, "instance_type": d.instance_type, "requests_cpu": d.resources.requests.cpu},
        )[-1],
    )
    endpoint.traffic = {"blue": 100}
    calls(
        "online_endpoints.begin_create_or_update(kubernetes traffic)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: (expect(e.traffic == {"blue": 100}, f"{e.traffic}"), e.traffic)[1],
    )
    calls(
        "online_endpoints.invoke(kubernetes)",
        lambda: json.loads(client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=REQUEST)),
        lambda r: (
            expect(
                isinstance(r, list) and all(abs(a - b) < 1e-3 for a, b in zip(r, expected, strict=True)),
                f"{r}",
            ),
            r,
        )[1],
    )
    blue.instance_count = 2
    calls(
        "online_deployments.begin_create_or_update(kubernetes scale to 2)",
        lambda: client.online_deployments.begin_create_or_update(blue).result(),
        lambda d: (
            expect(d.instance_count == 2, f"{d.instance_count}"),
            {"instance_count": d.instance_count},
        )[1],
    )
    calls(
        "online_deployments.get_logs(kubernetes)",
        lambda: client.online_deployments.get_logs(name="blue", endpoint_name=ENDPOINT, lines=20),
        lambda text: (expect(bool(text.strip()), "empty logs"), {"lines": len(text.splitlines())})[1],
    )
    calls(
        "online_endpoints.begin_delete(kubernetes)",
        lambda: client.online_endpoints.begin_delete(name=ENDPOINT).result(),
    )
    calls(
        "online_endpoints.list(after delete)",
        lambda: [e.name for e in client.online_endpoints.list()],
        lambda names: (expect(ENDPOINT not in names, f"{names}"), len(names))[1],
    )


if __name__ == "__main__":
    run(main)
