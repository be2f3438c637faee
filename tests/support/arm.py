"""Plain ARM calls against a local workspace, as any client makes them (no retries, no magic):
the ``Arm`` client, fault injection, SAS signing, uploads and asset registration, request bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

from jupyter_mlep.workspace import WORKSPACE_PATH, WorkspaceInfo

from .samples import AZURE_IMAGE

API = "2026-07-01"
"""The api-version the tests send."""
ACCOUNT = "mlepstore"
CONTAINER = "azureml-blobstore"


class Arm:
    """A thin ARM client over httpx for the tests (no retries, no magic).

    ``poll`` is the interval between two status requests of a long-running operation.
    """

    def __init__(self, info: WorkspaceInfo, *, timeout: float = 60.0, poll: float = 0.05) -> None:
        self.info = info
        self.poll = poll
        self.http = httpx.Client(
            base_url=info.base_url,
            headers={"Authorization": f"Bearer {info.token}"},
            timeout=timeout,
            verify=ssl.create_default_context(cafile=str(info.ca_file)) if info.ca_file else True,
        )

    def url(self, path: str) -> str:
        """Absolute path below the workspace (``""`` is the workspace itself)."""
        return WORKSPACE_PATH + path

    def request(self, method: str, path: str, *, api: str | None = API, **kwargs: Any) -> httpx.Response:
        """Call ``path`` below the workspace with the api-version."""
        params = dict(kwargs.pop("params", {}) or {})
        if api is not None:
            params["api-version"] = api
        return self.http.request(method, self.url(path), params=params, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, following ``nextLink`` (a shared workspace holds many)."""
        page = self.get(path, params=params).json()
        items = list(page["value"])
        while page.get("nextLink"):
            page = self.http.get(page["nextLink"]).json()
            items += page["value"]
        return items

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is None:
            return self.request("POST", path, **kwargs)
        return self.request("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def wait(self, response: httpx.Response, timeout: float = 300.0) -> dict[str, Any]:
        """Poll the response's Azure-AsyncOperation until the operation ends; its status body."""
        status_url = response.headers["Azure-AsyncOperation"]
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.http.get(status_url).json()
            if body["status"] != "InProgress":
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"operation still InProgress after {timeout} s: {body}")
            time.sleep(self.poll)

    def ok(self, response: httpx.Response, timeout: float = 300.0) -> dict[str, Any]:
        """Wait for the operation and assert that it succeeded."""
        assert response.status_code in (200, 201, 202), response.text
        status = self.wait(response, timeout)
        assert status["status"] == "Succeeded", status
        return status

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the workspace's own ``/mlep/v1/`` routes."""
        return self.http.request(method, f"/mlep/v1/{path}", **kwargs)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Arm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Admin:
    """The workspace's own ``/mlep/v1`` routes: fault injection."""

    def __init__(self, info: WorkspaceInfo) -> None:
        self.http = httpx.Client(
            base_url=info.base_url, headers={"Authorization": f"Bearer {info.token}"}, timeout=30.0
        )

    def fault(self, path: str, kind: str, count: int = 1, **options: Any) -> None:
        """Arm a fault on the next ``count`` requests of ``path``."""
        answer = self.http.post(
            "/mlep/v1/faults", json={"path": path, "kind": kind, "count": count, **options}
        )
        assert answer.status_code == 201, answer.text

    def armed(self) -> list[dict[str, Any]]:
        """The faults still armed."""
        return list(self.http.get("/mlep/v1/faults").json()["value"])

    def slow_operations(self, seconds: float) -> None:
        """Make every long-running operation last at least ``seconds``."""
        answer = self.http.post("/mlep/v1/faults/operations", json={"minimumSeconds": seconds})
        assert answer.status_code == 200, answer.text

    def clear(self) -> None:
        """Disarm every fault."""
        self.http.delete("/mlep/v1/faults")

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()


def make_sas(
    key: str,
    *,
    container: str = CONTAINER,
    blob: str | None = None,
    permissions: str = "racwdl",
    expiry: timedelta = timedelta(hours=1),
    version: str = "2024-11-04",
) -> str:
    """A service SAS of the workspace's storage account, signed with its key as any storage client
    signs one (the string-to-sign of version 2020-12-06 and later), independently of the server."""
    params = {
        "sv": version,
        "sr": "b" if blob else "c",
        "sp": permissions,
        "se": (datetime.now(timezone.utc) + expiry).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    resource = f"/blob/{ACCOUNT}/{container}" + (f"/{blob}" if blob else "")
    lines = [params["sp"], "", params["se"], resource, "", "", "", params["sv"], params["sr"]] + [""] * 7
    digest = hmac.new(base64.b64decode(key), "\n".join(lines).encode(), hashlib.sha256).digest()
    params["sig"] = base64.b64encode(digest).decode()
    return urlencode(params)


def container_sas(key: str, container: str = CONTAINER) -> str:
    """A container SAS (racwl) signed with the account key."""
    return make_sas(key, container=container, permissions="racwl")


def upload_folder(arm: Arm, folder: Path, prefix: str) -> str:
    """Upload ``folder`` (as ``<prefix>/<folder name>/…``) with a SAS; its azureml:// datastore URI."""
    key = arm.post("/datastores/workspaceblobstore/listSecrets").json()["key"]
    sas = container_sas(key)
    with httpx.Client(base_url=f"{arm.info.base_url}/{ACCOUNT}/{CONTAINER}") as blob:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = f"{prefix}/{folder.name}/{path.relative_to(folder).as_posix()}"
                response = blob.put(
                    f"/{name}?{sas}", content=path.read_bytes(), headers={"x-ms-blob-type": "BlockBlob"}
                )
                assert response.status_code == 201, response.text
    return f"azureml://datastores/workspaceblobstore/paths/{prefix}/{folder.name}"


def register_model(arm: Arm, name: str, folder: Path) -> str:
    """Upload a model folder and register it as ``name:1``; its ARM id."""
    uri = upload_folder(arm, folder, f"LocalUpload/{uuid.uuid4().hex}")
    response = arm.put(
        f"/models/{name}/versions/1", {"properties": {"modelUri": uri, "modelType": "CustomModel"}}
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def register_code(arm: Arm, name: str, script: str) -> str:
    """Upload a scoring script through startPendingUpload and register ``name:1``; its ARM id."""
    pending = arm.post(f"/codes/{name}/versions/1/startPendingUpload", {}).json()
    sas_uri = pending["blobReferenceForConsumption"]["credential"]["sasUri"]
    base, _, sas = sas_uri.partition("?")
    response = httpx.put(
        f"{base}/score.py?{sas}", content=script.encode(), headers={"x-ms-blob-type": "BlockBlob"}
    )
    assert response.status_code == 201, response.text
    code = arm.put(
        f"/codes/{name}/versions/1",
        {"properties": {"codeUri": pending["blobReferenceForConsumption"]["blobUri"]}},
    )
    assert code.status_code in (200, 201), code.text
    return str(code.json()["id"])


def register_environment(arm: Arm, name: str, conda_file: Path) -> str:
    """Register an environment (Azure's base image + the fixture's conda file); its ARM id."""
    body = {"properties": {"image": AZURE_IMAGE, "condaFile": conda_file.read_text()}}
    response = arm.put(f"/environments/{name}/versions/1", body)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


HISTORY_PREFIX = "/history/v1.0"
"""Where run history answers (the ``history`` service of the discovery document)."""
JOB_CONDA = "name: bare\ndependencies:\n  - python=3.11\n  - pip\n"


def job_environment(arm: Arm, name: str = "env") -> str:
    """The environment ``name:1`` for jobs: a conda file without packages (built once, then cached); its ARM id."""
    body = {"properties": {"image": "python:3.11-slim", "condaFile": JOB_CONDA}}
    response = arm.put(f"/environments/{name}/versions/1", body)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def deployment_body(
    model_id: str, code_id: str, env_id: str, *, capacity: int = 1, **props: Any
) -> dict[str, Any]:
    """An OnlineDeployment body as the CLI sends one for the sample's blue/green YAMLs."""
    return {
        "location": "local",
        "sku": {"name": "Default", "capacity": capacity},
        "properties": {
            "endpointComputeType": "Managed",
            "model": model_id,
            "codeConfiguration": {"codeId": code_id, "scoringScript": "score.py"},
            "environmentId": env_id,
            "instanceType": "Standard_DS3_v2",
            **props,
        },
    }


def endpoint_body(sample: Path, **props: Any) -> dict[str, Any]:
    """The sample's endpoint.yml as a REST body."""
    spec = yaml.safe_load((sample / "endpoint.yml").read_text())
    modes = {"key": "Key", "aml_token": "AMLToken", "aad_token": "AADToken"}
    return {"location": "local", "properties": {"authMode": modes[spec["auth_mode"]], **props}}
