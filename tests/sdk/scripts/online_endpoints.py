"""The online-endpoint flow of the azureml-examples SDK notebooks (endpoints/online/managed):
a key endpoint with blue (local code, registered model, inline environment) and green (registered
environment), invoke, logs, keys, traffic, mirror traffic, scale, delete; a token endpoint."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from azure.ai.ml.entities import (
    CodeConfiguration,
    Environment,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
)
from sdkcalls import Calls, arguments, datastore_container, expect, ml_client, run, upload_folder

ARGS = arguments()
ENDPOINT = ARGS["endpoint"]
WORK = Path(ARGS["work"])
MODEL_DIR = Path(ARGS["model_dir"])
CONDA = ARGS["conda_file"]
IMAGE = ARGS["image"]
REQUEST = str(WORK / "sample-request.json")


def routed_by_traffic() -> None:
    """Forget the deployment an earlier ``invoke(deployment_name=…)`` named: the SDK (1.35) keeps it in
    a class-level header dict, so later invokes without one would still go to that deployment."""
    from azure.ai.ml.constants._endpoint import EndpointInvokeFields

    EndpointInvokeFields.DEFAULT_HEADER.pop(EndpointInvokeFields.MODEL_DEPLOYMENT, None)


def close(values: object, expected: list[float]) -> bool:
    return (
        isinstance(values, list)
        and len(values) == len(expected)
        and all(abs(float(a) - b) < 1e-3 for a, b in zip(values, expected, strict=True))
    )


def main(calls: Calls) -> None:
    client = ml_client()
    expected = ARGS["expected"]

    calls(
        "workspaces.get",
        lambda: client.workspaces.get(client.workspace_name),
        lambda ws: {"name": ws.name, "discovery_url": ws.discovery_url, "mlflow": ws.mlflow_tracking_uri},
    )

    # the model: uploaded to the datastore path, then registered by its URI
    container = datastore_container(calls, client)
    prefix = f"sdk-models/{uuid.uuid4().hex}/model"
    calls(
        "storage.upload_blob(model folder)", lambda: upload_folder(container, MODEL_DIR, prefix), lambda n: n
    )
    model = calls(
        "models.create_or_update",
        lambda: client.models.create_or_update(
            Model(
                name=f"{ENDPOINT}-model",
                path=f"azureml://datastores/workspaceblobstore/paths/{prefix}",
                type="custom_model",
            )
        ),
        lambda m: {"name": m.name, "version": m.version, "path": m.path},
    )

    endpoint = ManagedOnlineEndpoint(
        name=ENDPOINT, description="SDK conformance", auth_mode="key", tags={"suite": "sdk"}
    )
    calls(
        "online_endpoints.begin_create_or_update(key endpoint)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: {"state": e.provisioning_state, "auth_mode": e.auth_mode, "scoring_uri": e.scoring_uri},
    )
    calls(
        "online_endpoints.get",
        lambda: client.online_endpoints.get(ENDPOINT),
        lambda e: {"state": e.provisioning_state, "tags": e.tags, "scoring_uri": e.scoring_uri},
    )

    blue = ManagedOnlineDeployment(
        name="blue",
        endpoint_name=ENDPOINT,
        model=f"azureml:{model.name}:{model.version}",
        code_configuration=CodeConfiguration(code=str(WORK / "blue"), scoring_script="score.py"),
        environment=Environment(conda_file=CONDA, image=IMAGE),
        instance_type="Standard_DS3_v2",
        instance_count=1,
    )
    calls(
        "online_deployments.begin_create_or_update(blue)",
        lambda: client.online_deployments.begin_create_or_update(blue).result(),
        lambda d: {"state": d.provisioning_state, "model": d.model, "code": d.code_configuration.code},
    )
    endpoint.traffic = {"blue": 100}
    calls(
        "online_endpoints.begin_create_or_update(traffic blue=100)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: {"traffic": e.traffic},
    )
    calls(
        "online_endpoints.invoke",
        lambda: json.loads(client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=REQUEST)),
        lambda r: (expect(close(r, expected), f"unexpected predictions {r}"), r)[1],
    )
    calls(
        "online_endpoints.invoke(deployment blue)",
        lambda: json.loads(
            client.online_endpoints.invoke(
                endpoint_name=ENDPOINT, deployment_name="blue", request_file=REQUEST
            )
        ),
        lambda r: (expect(close(r, expected), f"unexpected predictions {r}"), r)[1],
    )
    calls(
        "online_deployments.get_logs",
        lambda: client.online_deployments.get_logs(name="blue", endpoint_name=ENDPOINT, lines=50),
        lambda text: (expect(bool(text.strip()), "empty logs"), {"lines": len(text.splitlines())})[1],
    )

    keys = calls(
        "online_endpoints.get_keys",
        lambda: client.online_endpoints.get_keys(ENDPOINT),
        lambda k: (
            expect(bool(k.primary_key and k.secondary_key), "no keys"),
            {"primary": len(k.primary_key)},
        )[1],
    )
    calls(
        "online_endpoints.begin_regenerate_keys(primary)",
        lambda: client.online_endpoints.begin_regenerate_keys(ENDPOINT, key_type="primary").result(),
    )
    calls(
        "online_endpoints.get_keys(after regenerate)",
        lambda: client.online_endpoints.get_keys(ENDPOINT),
        lambda k: (
            expect(
                k.primary_key != keys.primary_key and k.secondary_key == keys.secondary_key,
                "primary key unchanged",
            ),
            {"primary_changed": True},
        )[1],
    )

    env = calls(
        "environments.create_or_update",
        lambda: client.environments.create_or_update(
            Environment(name=f"{ENDPOINT}-env", conda_file=CONDA, image=IMAGE, description="SDK conformance")
        ),
        lambda e: {"name": e.name, "version": e.version},
    )
    green = ManagedOnlineDeployment(
        name="green",
        endpoint_name=ENDPOINT,
        model=model,
        code_configuration=CodeConfiguration(code=str(WORK / "green"), scoring_script="score.py"),
        environment=f"azureml:{env.name}:{env.version}",
        instance_type="Standard_DS3_v2",
        instance_count=1,
    )
    calls(
        "online_deployments.begin_create_or_update(green)",
        lambda: client.online_deployments.begin_create_or_update(green).result(),
        lambda d: {"state": d.provisioning_state, "environment": d.environment},
    )
    calls(
        "online_endpoints.invoke(deployment green)",
        lambda: json.loads(
            client.online_endpoints.invoke(
                endpoint_name=ENDPOINT, deployment_name="green", request_file=REQUEST
            )
        ),
        lambda r: (expect(r == [0.5, 0.5], f"green answered {r}"), r)[1],
    )
    endpoint.traffic = {"blue": 90, "green": 10}
    calls(
        "online_endpoints.begin_create_or_update(traffic blue=90 green=10)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: (expect(e.traffic == {"blue": 90, "green": 10}, f"traffic {e.traffic}"), e.traffic)[1],
    )
    endpoint.traffic = {"blue": 100, "green": 0}
    endpoint.mirror_traffic = {"green": 10}
    calls(
        "online_endpoints.begin_create_or_update(mirror green=10)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: (expect(e.mirror_traffic == {"green": 10}, f"mirror {e.mirror_traffic}"), e.mirror_traffic)[
            1
        ],
    )
    endpoint.mirror_traffic = {}
    endpoint.traffic = {"blue": 0, "green": 100}
    calls(
        "online_endpoints.begin_create_or_update(traffic green=100, no mirror)",
        lambda: client.online_endpoints.begin_create_or_update(endpoint).result(),
        lambda e: (
            expect(e.traffic.get("green") == 100 and not e.mirror_traffic, f"{e.traffic} {e.mirror_traffic}"),
            e.traffic,
        )[1],
    )
    routed_by_traffic()
    calls(
        "online_endpoints.invoke(after switch)",
        lambda: json.loads(client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=REQUEST)),
        lambda r: (expect(r == [0.5, 0.5], f"the endpoint answered {r}"), r)[1],
    )
    green.instance_count = 2
    calls(
        "online_deployments.begin_create_or_update(scale green to 2)",
        lambda: client.online_deployments.begin_create_or_update(green).result(),
        lambda d: (
            expect(d.instance_count == 2, f"instance_count {d.instance_count}"),
            {"instance_count": d.instance_count},
        )[1],
    )
    calls(
        "online_deployments.get(green)",
        lambda: client.online_deployments.get(name="green", endpoint_name=ENDPOINT),
        lambda d: (
            expect(d.instance_count == 2, "not scaled"),
            {"instance_count": d.instance_count, "state": d.provisioning_state},
        )[1],
    )
    calls(
        "online_deployments.list",
        lambda: sorted(d.name for d in client.online_deployments.list(ENDPOINT)),
        lambda names: (expect(names == ["blue", "green"], f"{names}"), names)[1],
    )
    calls(
        "online_deployments.begin_delete(blue)",
        lambda: client.online_deployments.begin_delete(name="blue", endpoint_name=ENDPOINT).result(),
    )
    calls(
        "online_endpoints.list",
        lambda: [e.name for e in client.online_endpoints.list()],
        lambda names: (expect(ENDPOINT in names, f"{ENDPOINT} not listed"), len(names))[1],
    )

    # token auth (aml_token): the SDK fetches the endpoint's token to invoke it
    token_endpoint = ManagedOnlineEndpoint(name=f"{ENDPOINT}-tok", auth_mode="aml_token")
    calls(
        "online_endpoints.begin_create_or_update(token endpoint)",
        lambda: client.online_endpoints.begin_create_or_update(token_endpoint).result(),
        lambda e: (
            expect(e.auth_mode == "aml_token", f"auth_mode {e.auth_mode}"),
            {"auth_mode": e.auth_mode},
        )[1],
    )
    calls(
        "online_deployments.begin_create_or_update(token endpoint)",
        lambda: client.online_deployments.begin_create_or_update(
            ManagedOnlineDeployment(
                name="blue",
                endpoint_name=token_endpoint.name,
                model=model,
                code_configuration=CodeConfiguration(code=str(WORK / "blue"), scoring_script="score.py"),
                environment=f"azureml:{env.name}:{env.version}",
                instance_type="Standard_DS3_v2",
                instance_count=1,
            )
        ).result(),
        lambda d: {"state": d.provisioning_state},
    )
    token_endpoint.traffic = {"blue": 100}
    calls(
        "online_endpoints.begin_create_or_update(token endpoint traffic)",
        lambda: client.online_endpoints.begin_create_or_update(token_endpoint).result(),
        lambda e: (expect(e.traffic == {"blue": 100}, f"traffic {e.traffic}"), e.traffic)[1],
    )
    calls(
        "online_endpoints.get_keys(token)",
        lambda: client.online_endpoints.get_keys(token_endpoint.name),
        lambda t: (
            expect(bool(t.access_token) and t.expiry_time_utc > 0, "no token"),
            {"expires": t.expiry_time_utc},
        )[1],
    )
    routed_by_traffic()
    calls(
        "online_endpoints.invoke(token endpoint)",
        lambda: json.loads(
            client.online_endpoints.invoke(endpoint_name=token_endpoint.name, request_file=REQUEST)
        ),
        lambda r: (expect(close(r, expected), f"unexpected predictions {r}"), r)[1],
    )
    for name in (token_endpoint.name, ENDPOINT):
        calls(
            f"online_endpoints.begin_delete({'token' if name != ENDPOINT else 'key'} endpoint)",
            lambda name=name: client.online_endpoints.begin_delete(name=name).result(),
        )
    calls(
        "online_endpoints.list(after delete)",
        lambda: [e.name for e in client.online_endpoints.list()],
        lambda names: (
            expect(ENDPOINT not in names and token_endpoint.name not in names, f"{names}"),
            len(names),
        )[1],
    )


if __name__ == "__main__":
    run(main)
