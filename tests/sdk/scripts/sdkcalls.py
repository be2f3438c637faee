"""Run by the SDK's own virtual environment (never imported by the tests): an ``MLClient`` of the
local workspace, and :class:`Calls`, which makes each SDK call and prints one JSON line for it.

The environment is the one ``jupyter-mlep workspace sdk-env`` prints (``AZUREML_DEV_URL_MFE``,
``REQUESTS_CA_BUNDLE``, the workspace names, ``MLEP_ADMIN_TOKEN_FILE``). A line reads
``{"call": "online_endpoints.begin_create_or_update", "ok": true, "seconds": 1.2, "result": {...}}``;
``result`` is what the call produced that the test checks. The first failing call prints
``"ok": false`` with the error and ends the script (status 1).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azure.ai.ml import MLClient
from azure.core.credentials import AccessToken


class LocalToken:
    """A token credential returning the workspace's admin token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = Path(os.environ["MLEP_ADMIN_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
        return AccessToken(token, int(time.time()) + 3600)


def ml_client() -> MLClient:
    """The SDK's client of the local workspace (names from the environment)."""
    return MLClient(
        LocalToken(),
        os.environ["AZURE_SUBSCRIPTION_ID"],
        os.environ["AZURE_RESOURCE_GROUP"],
        os.environ["AZUREML_WORKSPACE_NAME"],
    )


def arguments() -> dict[str, Any]:
    """The script's parameters: a JSON object as the first argument."""
    return dict(json.loads(sys.argv[1])) if len(sys.argv) > 1 else {}


class CallFailed(Exception):
    """An SDK call failed or did not have its effect (already printed)."""


class Calls:
    """Makes SDK calls and prints one line for each (see the module's docstring)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, name: str, call: Callable[[], Any], check: Callable[[Any], Any] | None = None) -> Any:
        """``call()``; ``check(result)`` returns the summary printed (and raises when the effect is
        wrong)."""
        started = time.perf_counter()
        try:
            result = call()
            summary = check(result) if check is not None else None
        except Exception as exc:
            line = {"call": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:3000]}
            print(json.dumps(line), flush=True)
            traceback.print_exc()
            raise CallFailed(name) from exc
        self.count += 1
        line = {
            "call": name,
            "ok": True,
            "seconds": round(time.perf_counter() - started, 3),
            "result": summary,
        }
        print(json.dumps(line, default=str), flush=True)
        return result


def expect(condition: bool, message: str) -> None:
    """Raise when an SDK call did not have its effect."""
    if not condition:
        raise AssertionError(message)


def run(main: Callable[[Calls], None]) -> None:
    """Run ``main`` and exit 0, or 1 after the first failed call."""
    calls = Calls()
    try:
        main(calls)
    except CallFailed:
        sys.exit(1)
    print(json.dumps({"done": True, "calls": calls.count}), flush=True)


def datastore_container(calls: Calls, client: MLClient) -> Any:
    """The default datastore's container through the official storage client, addressed the way
    the local workspace serves it (path-style: ``{protocol}://{endpoint}/{account}``) with the
    datastore's account key."""
    from azure.storage.blob import ContainerClient

    store = calls(
        "datastores.get_default(include_secrets=True)",
        lambda: client.datastores.get_default(include_secrets=True),
        lambda ds: {
            "name": ds.name,
            "endpoint": ds.endpoint,
            "protocol": ds.protocol,
            "key": bool(ds.credentials.account_key),
        },
    )
    account_url = f"{store.protocol}://{store.endpoint}/{store.account_name}"
    return ContainerClient(
        account_url,
        store.container_name,
        credential={"account_name": store.account_name, "account_key": store.credentials.account_key},
    )


def upload_folder(container: Any, local: Path, prefix: str) -> list[str]:
    """Upload every file below ``local`` to ``prefix/…`` in ``container``; the blob names."""
    names = []
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        name = f"{prefix}/{path.relative_to(local).as_posix()}"
        with path.open("rb") as data:
            container.upload_blob(name, data, overwrite=True)
        names.append(name)
    return names
