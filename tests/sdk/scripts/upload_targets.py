"""Where the SDK would upload a local model or data folder (``Model(path="./model")``): the account
URL it builds for the workspace's default datastore, with the default cloud and with a custom cloud
whose storage suffix names this machine, and whether its storage client accepts that URL. Nothing
is sent to a storage account: it prints one JSON line ``{"upload_targets": {...}}``."""

from __future__ import annotations

import json
import os

from azure.ai.ml import MLClient
from azure.ai.ml._artifacts._artifact_utilities import get_datastore_info, get_storage_client
from sdkcalls import LocalToken, ml_client


def target(client: MLClient) -> dict[str, str]:
    info = get_datastore_info(client.datastores, "workspaceblobstore")
    try:
        get_storage_client(**info)
        storage_client = "accepted"
    except ValueError as exc:
        storage_client = f"ValueError: {exc}"
    return {"account_url": info["account_url"], "storage_client": storage_client}


def main() -> None:
    client = ml_client()
    store = client.datastores.get_default()
    results = {"datastore": {"endpoint": store.endpoint, "protocol": store.protocol}}
    results["default_cloud"] = target(client)
    base = os.environ["AZUREML_DEV_URL_MFE"]
    port = base.rsplit(":", 1)[1]
    custom = MLClient(
        LocalToken(),
        client.subscription_id,
        client.resource_group_name,
        client.workspace_name,
        cloud="MlepLocal",
        cloud_metadata={
            "azure_portal": "https://portal.localhost/",
            "resource_manager": base + "/",
            "active_directory": "https://login.localhost/",
            "aml_resource_id": "https://ml.localhost/",
            "storage_endpoint": f"localhost:{port}",
            "registry_discovery_endpoint": "https://registry.localhost/",
        },
    )
    results["custom_cloud"] = target(custom)
    print(json.dumps({"upload_targets": results}), flush=True)


if __name__ == "__main__":
    main()
