"""A workspace killed with SIGKILL comes back with its state; unfinished operations end Failed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from support.arm import Arm
from support.workspace import running_workspace

from jupyter_mlep.workspace import control


def _kill_9(home: Path, pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while control.status(home) is not None:
        assert time.monotonic() < deadline, "the killed server still holds its lock"
        time.sleep(0.02)


def test_state_survives_kill_9(tmp_path: Path) -> None:
    with running_workspace(tmp_path) as info:
        arm = Arm(info)
        arm.ok(arm.put("/onlineEndpoints/kept", {"location": "local", "properties": {"authMode": "Key"}}))
        keys = arm.post("/onlineEndpoints/kept/listKeys").json()
        assert arm.put("/models/m/versions/3", {"properties": {"modelUri": "azureml://x"}}).status_code == 201
        secret = arm.post("/datastores/workspaceblobstore/listSecrets").json()["key"]
        put = arm.http.put(
            "/mlepstore/azureml-blobstore/kept/file.txt",
            content=b"still here",
            headers={"x-ms-blob-type": "BlockBlob"},
        )
        assert put.status_code == 201
        arm.admin("POST", "faults/operations", json={"minimumSeconds": 60})
        pending = arm.put(
            "/onlineEndpoints/interrupted", {"location": "local", "properties": {"authMode": "Key"}}
        )
        assert pending.status_code == 201
        status_url = pending.headers["Azure-AsyncOperation"]
        _kill_9(tmp_path, info.pid)
        arm.close()
    with running_workspace(tmp_path) as again:
        assert again.token == info.token and again.port == info.port and again.pid != info.pid
        arm = Arm(again)
        try:
            assert arm.get("/onlineEndpoints/kept").json()["properties"]["provisioningState"] == "Succeeded"
            assert arm.post("/onlineEndpoints/kept/listKeys").json() == keys
            assert arm.get("/models/m/versions/3").status_code == 200
            assert arm.post("/datastores/workspaceblobstore/listSecrets").json()["key"] == secret
            assert arm.http.get("/mlepstore/azureml-blobstore/kept/file.txt").content == b"still here"
            status = arm.http.get(status_url).json()
            assert status["status"] == "Failed" and status["error"]["code"] == "OperationInterrupted"
            assert (
                arm.get("/onlineEndpoints/interrupted").json()["properties"]["provisioningState"] == "Failed"
            )
            assert arm.admin("GET", "faults").json()["operationMinimumSeconds"] == 0.0
            arm.ok(
                arm.put(
                    "/onlineEndpoints/interrupted", {"location": "local", "properties": {"authMode": "Key"}}
                )
            )
        finally:
            arm.close()
