"""Assets and datastores through the SDK, as the azureml-examples SDK notebooks use them
(assets/model, assets/environment, assets/data, resources/datastores): models and data registered
by datastore URI, environments and their versions, code by content hash, datastores."""

from __future__ import annotations

import uuid
from pathlib import Path

from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import AccountKeyConfiguration, AzureBlobDatastore, Data, Environment, Model
from azure.ai.ml.entities._assets import Code
from sdkcalls import Calls, arguments, datastore_container, expect, ml_client, run, upload_folder

ARGS = arguments()
PREFIX = ARGS["prefix"]
WORK = Path(ARGS["work"])
MODEL_DIR = Path(ARGS["model_dir"])
CONDA = ARGS["conda_file"]
IMAGE = ARGS["image"]


def main(calls: Calls) -> None:
    client = ml_client()
    container = datastore_container(calls, client)
    folder = f"sdk-assets/{uuid.uuid4().hex}"
    calls(
        "storage.upload_blob(model folder)",
        lambda: upload_folder(container, MODEL_DIR, f"{folder}/model"),
        len,
    )
    calls(
        "storage.upload_blob(data folder)",
        lambda: upload_folder(container, WORK / "data", f"{folder}/data"),
        len,
    )
    uri = f"azureml://datastores/workspaceblobstore/paths/{folder}"

    # models
    name = f"{PREFIX}-model"
    first = calls(
        "models.create_or_update(version 1)",
        lambda: client.models.create_or_update(
            Model(
                name=name, version="1", path=f"{uri}/model", type=AssetTypes.CUSTOM_MODEL, description="first"
            )
        ),
        lambda m: (expect(m.version == "1", f"version {m.version}"), {"version": m.version, "path": m.path})[
            1
        ],
    )
    calls(
        "models.create_or_update(same version, same content)",
        lambda: client.models.create_or_update(
            Model(
                name=name, version="1", path=f"{uri}/model", type=AssetTypes.CUSTOM_MODEL, description="first"
            )
        ),
        lambda m: (expect(m.version == "1" and m.path == first.path, "changed"), {"version": m.version})[1],
    )
    calls(
        "models.create_or_update(no version: the next one)",
        lambda: client.models.create_or_update(
            Model(name=name, path=f"{uri}/model", type=AssetTypes.CUSTOM_MODEL, description="second")
        ),
        lambda m: (expect(m.version == "2", f"version {m.version}"), {"version": m.version})[1],
    )
    calls(
        "models.get(version 1)",
        lambda: client.models.get(name, version="1"),
        lambda m: (
            expect(m.description == "first", f"description {m.description}"),
            {"description": m.description},
        )[1],
    )
    calls(
        "models.get(label latest)",
        lambda: client.models.get(name, label="latest"),
        lambda m: (expect(m.version == "2", f"latest {m.version}"), {"version": m.version})[1],
    )
    calls(
        "models.list(name)",
        lambda: sorted(m.version for m in client.models.list(name=name)),
        lambda versions: (expect(versions == ["1", "2"], f"{versions}"), versions)[1],
    )
    calls("models.archive(version 1)", lambda: client.models.archive(name, version="1"))
    calls(
        "models.list(name, after archive)",
        lambda: sorted(m.version for m in client.models.list(name=name)),
        lambda versions: (expect(versions == ["2"], f"{versions}"), versions)[1],
    )
    calls("models.restore(version 1)", lambda: client.models.restore(name, version="1"))

    # environments
    env_name = f"{PREFIX}-env"
    calls(
        "environments.create_or_update(version 1)",
        lambda: client.environments.create_or_update(
            Environment(name=env_name, version="1", conda_file=CONDA, image=IMAGE)
        ),
        lambda e: (expect(e.version == "1", f"version {e.version}"), {"version": e.version})[1],
    )
    changed = WORK / "conda-changed.yml"
    changed.write_text(Path(CONDA).read_text() + "  - pyyaml\n")
    calls(
        "environments.create_or_update(changed, no version)",
        lambda: client.environments.create_or_update(
            Environment(name=env_name, conda_file=str(changed), image=IMAGE)
        ),
        lambda e: (expect(e.version == "2", f"version {e.version}"), {"version": e.version})[1],
    )
    calls(
        "environments.get(version 1: unchanged)",
        lambda: client.environments.get(env_name, version="1"),
        lambda e: (
            expect("pyyaml" not in str(e.conda_file), "version 1 was overwritten"),
            {"image": e.image},
        )[1],
    )
    calls(
        "environments.get(label latest)",
        lambda: client.environments.get(env_name, label="latest"),
        lambda e: (
            expect(e.version == "2" and "pyyaml" in str(e.conda_file), f"latest {e.version}"),
            {"version": e.version},
        )[1],
    )
    calls(
        "environments.list(name)",
        lambda: sorted(e.version for e in client.environments.list(name=env_name)),
        lambda versions: (expect(versions == ["1", "2"], f"{versions}"), versions)[1],
    )

    # code (the operations behind every deployment's code_configuration): reused by content hash
    code_dir = WORK / "code"
    code = calls(
        "code.create_or_update(local folder)",
        lambda: client._code.create_or_update(Code(path=str(code_dir))),
        lambda c: {"name": c.name, "version": c.version, "path": c.path},
    )
    calls(
        "code.create_or_update(same folder again: reused)",
        lambda: client._code.create_or_update(Code(path=str(code_dir))),
        lambda c: (
            expect((c.name, c.version) == (code.name, code.version), f"{c.name}:{c.version}"),
            {"name": c.name},
        )[1],
    )
    calls(
        "code.get",
        lambda: client._code.get(code.name, code.version),
        lambda c: (expect(c.path == code.path, f"path {c.path}"), {"path": c.path})[1],
    )

    # data assets by datastore URI
    data_name = f"{PREFIX}-data"
    calls(
        "data.create_or_update(uri_folder)",
        lambda: client.data.create_or_update(
            Data(name=data_name, version="1", type=AssetTypes.URI_FOLDER, path=f"{uri}/data/")
        ),
        lambda d: (
            expect(d.type == AssetTypes.URI_FOLDER, f"type {d.type}"),
            {"version": d.version, "path": d.path},
        )[1],
    )
    calls(
        "data.create_or_update(uri_file)",
        lambda: client.data.create_or_update(
            Data(
                name=f"{data_name}-file",
                version="1",
                type=AssetTypes.URI_FILE,
                path=f"{uri}/data/diabetes.csv",
            )
        ),
        lambda d: (expect(d.type == AssetTypes.URI_FILE, f"type {d.type}"), {"path": d.path})[1],
    )
    calls(
        "data.create_or_update(uri_folder, no version)",
        lambda: client.data.create_or_update(
            Data(name=data_name, type=AssetTypes.URI_FOLDER, path=f"{uri}/model/")
        ),
        lambda d: (expect(d.version == "2", f"version {d.version}"), {"version": d.version})[1],
    )
    calls(
        "data.get(version 1)",
        lambda: client.data.get(data_name, version="1"),
        lambda d: (expect(d.path.rstrip("/").endswith(f"{folder}/data"), f"path {d.path}"), {"path": d.path})[
            1
        ],
    )
    calls(
        "data.get(label latest)",
        lambda: client.data.get(data_name, label="latest"),
        lambda d: (expect(d.version == "2", f"latest {d.version}"), {"version": d.version})[1],
    )
    calls(
        "data.list(name)",
        lambda: sorted(d.version for d in client.data.list(name=data_name)),
        lambda versions: (expect(versions == ["1", "2"], f"{versions}"), versions)[1],
    )

    # datastores
    calls(
        "datastores.list",
        lambda: sorted(d.name for d in client.datastores.list()),
        lambda names: (expect("workspaceblobstore" in names, f"{names}"), names)[1],
    )
    key = client.datastores.get_default(include_secrets=True).credentials.account_key
    store_name = f"{PREFIX.replace('-', '_')}_store"
    calls(
        "datastores.create_or_update(AzureBlob, account key)",
        lambda: client.datastores.create_or_update(
            AzureBlobDatastore(
                name=store_name,
                account_name="mlepstore",
                container_name="azureml-blobstore",
                credentials=AccountKeyConfiguration(account_key=key),
                description="SDK conformance",
            )
        ),
        lambda d: (
            expect(d.container_name == "azureml-blobstore", f"container {d.container_name}"),
            {"name": d.name},
        )[1],
    )
    calls(
        "datastores.get",
        lambda: client.datastores.get(store_name),
        lambda d: (expect(d.description == "SDK conformance", f"{d.description}"), {"type": str(d.type)})[1],
    )
    calls(
        "data.create_or_update(uri_file on the new datastore)",
        lambda: client.data.create_or_update(
            Data(
                name=f"{data_name}-other",
                version="1",
                type=AssetTypes.URI_FILE,
                path=f"azureml://datastores/{store_name}/paths/{folder}/data/diabetes.csv",
            )
        ),
        lambda d: {"path": d.path},
    )
    calls("datastores.delete", lambda: client.datastores.delete(store_name))
    calls(
        "datastores.list(after delete)",
        lambda: sorted(d.name for d in client.datastores.list()),
        lambda names: (expect(store_name not in names, f"{names}"), names)[1],
    )


if __name__ == "__main__":
    run(main)
