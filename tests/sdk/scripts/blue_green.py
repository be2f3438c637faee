"""A blue/green rollout by the SDK, the same steps the benchmark makes through ``jupyter_mlep``:
create a key endpoint, deploy blue (model-1) with all the traffic, score, deploy green (model-2),
send it 10 %, score green, delete the endpoint. Models come by datastore URI (uploaded before)."""

from __future__ import annotations

import json
from pathlib import Path

from azure.ai.ml.entities import (
    CodeConfiguration,
    Environment,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
)
from sdkcalls import Calls, arguments, expect, ml_client, run

ARGS = arguments()
ENDPOINT = ARGS["endpoint"]
REQUEST = ARGS["request"]


def deployment(name: str, model_uri: str, code: str) -> ManagedOnlineDeployment:
    return ManagedOnlineDeployment(
        name=name,
        endpoint_name=ENDPOINT,
        model=Model(name=f"{ENDPOINT}-{name}", path=model_uri),
        code_configuration=CodeConfiguration(code=code, scoring_script="score.py"),
        environment=Environment(conda_file=ARGS["conda_file"], image=ARGS["image"]),
        instance_type="Standard_DS3_v2",
        instance_count=1,
    )


def main(calls: Calls) -> None:
    client = ml_client()
    endpoint = ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key")
    calls(
        "online_endpoints.begin_create_or_update",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
    )
    blue = deployment("blue", ARGS["blue_model"], ARGS["blue_code"])
    calls(
        "online_deployments.begin_create_or_update(blue)",
        lambda: client.online_deployments.begin_create_or_update(blue).result(),
    )
    endpoint.traffic = {"blue": 100}
    calls(
        "online_endpoints.begin_create_or_update(blue=100)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
    )
    calls(
        "online_endpoints.invoke",
        lambda: json.loads(client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=REQUEST)),
        lambda r: (expect(isinstance(r, list) and len(r) == 2 and r != [0.5, 0.5], f"{r}"), r)[1],
    )
    green = deployment("green", ARGS["green_model"], ARGS["green_code"])
    calls(
        "online_deployments.begin_create_or_update(green)",
        lambda: client.online_deployments.begin_create_or_update(green).result(),
    )
    endpoint.traffic = {"blue": 90, "green": 10}
    calls(
        "online_endpoints.begin_create_or_update(blue=90 green=10)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
    )
    calls(
        "online_endpoints.invoke(green)",
        lambda: json.loads(
            client.online_endpoints.invoke(
                endpoint_name=ENDPOINT, deployment_name="green", request_file=REQUEST
            )
        ),
        lambda r: (expect(r == [0.5, 0.5], f"{r}"), r)[1],
    )
    calls(
        "online_endpoints.begin_delete", lambda: client.online_endpoints.begin_delete(name=ENDPOINT).result()
    )


if __name__ == "__main__":
    if not Path(REQUEST).is_file():
        raise SystemExit(f"no request file {REQUEST}")
    run(main)
