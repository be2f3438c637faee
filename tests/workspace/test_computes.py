"""Computes at the REST level: compute clusters and instances created, read, listed and deleted with
Azure's long-running-operation protocol, their validation, and how many jobs each may run at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from support.arm import Arm
from support.waiting import unique

from jupyter_mlep.workspace._paths import WorkspacePaths
from jupyter_mlep.workspace.computes import VM_SIZES, compute_concurrency
from jupyter_mlep.workspace.context import Workspace

CORES = os.cpu_count() or 1


def cluster(size: str = "Standard_DS3_v2", *, low: int = 0, high: int = 2, **extra: Any) -> dict[str, Any]:
    scale = {"minNodeCount": low, "maxNodeCount": high, "nodeIdleTimeBeforeScaleDown": "PT2M"}
    inner = {"vmSize": size, "scaleSettings": scale, **extra}
    return {"location": "local", "properties": {"computeType": "AmlCompute", "properties": inner}}


def instance(size: str = "Standard_DS3_v2") -> dict[str, Any]:
    inner = {"vmSize": size, "idleTimeBeforeShutdown": "PT30M"}
    return {"location": "local", "properties": {"computeType": "ComputeInstance", "properties": inner}}


def _error(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


def test_cluster_is_created_read_listed_and_deleted(arm: Arm) -> None:
    name = unique("cc")
    created = arm.put(f"/computes/{name}", cluster("standard_ds3_V2", vmPriority="lowpriority"))
    assert created.status_code == 201 and "Azure-AsyncOperation" in created.headers
    assert created.json()["properties"]["provisioningState"] == "Creating"
    arm.ok(created)
    body = arm.get(f"/computes/{name.upper()}").json()
    assert body["id"] == f"{arm.info.workspace_path}/computes/{name}"
    props = body["properties"]
    assert props["computeType"] == "AmlCompute" and props["provisioningState"] == "Succeeded"
    inner = props["properties"]
    assert inner["vmSize"] == "Standard_DS3_v2" and inner["vmPriority"] == "LowPriority"
    assert inner["scaleSettings"]["maxNodeCount"] == 2 and inner["allocationState"] == "Steady"
    names = [item["name"] for item in arm.get("/computes").json()["value"]]
    assert names[0] == "inferencecompute" and name in names
    # a replacement is a 200; the type cannot change
    arm.ok(arm.put(f"/computes/{name}", cluster(high=3)))
    assert (
        arm.get(f"/computes/{name}").json()["properties"]["properties"]["scaleSettings"]["maxNodeCount"] == 3
    )
    assert "cannot become a ComputeInstance" in _error(arm.put(f"/computes/{name}", instance()), 409)
    # delete: underlyingResourceAction is required
    assert "underlyingResourceAction" in _error(arm.delete(f"/computes/{name}"))
    deleted = arm.delete(f"/computes/{name}", params={"underlyingResourceAction": "Delete"})
    assert deleted.status_code == 202
    arm.ok(deleted)
    assert arm.get(f"/computes/{name}").status_code == 404
    assert arm.delete(f"/computes/{name}", params={"underlyingResourceAction": "Delete"}).status_code == 404


def test_compute_instance_runs_once_created(arm: Arm) -> None:
    name = unique("ci")
    arm.ok(arm.put(f"/computes/{name}", instance("Standard_DS11_v2")))
    inner = arm.get(f"/computes/{name}").json()["properties"]["properties"]
    assert inner["state"] == "Running" and inner["idleTimeBeforeShutdown"] == "PT30M"
    assert inner["applicationSharingPolicy"] == "Shared"
    arm.ok(arm.delete(f"/computes/{name}", params={"underlyingResourceAction": "delete"}))


def test_invalid_computes_are_refused(arm: Arm) -> None:
    assert "not supported" in _error(arm.put(f"/computes/{unique('cc')}", cluster("Standard_Nope_v9")))
    assert "more than 'maxNodeCount'" in _error(arm.put(f"/computes/{unique('cc')}", cluster(low=3, high=1)))
    odd_idle = cluster()
    odd_idle["properties"]["properties"]["scaleSettings"]["nodeIdleTimeBeforeScaleDown"] = "2m"
    assert "ISO 8601" in _error(arm.put(f"/computes/{unique('cc')}", odd_idle))
    assert "computeType" in _error(
        arm.put(f"/computes/{unique('cc')}", {"properties": {"computeType": "Databricks"}})
    )
    assert "attached, not created" in _error(
        arm.put(f"/computes/{unique('cc')}", {"properties": {"computeType": "Kubernetes"}})
    )
    assert "invalid" in _error(arm.put("/computes/cluster-1", cluster()))  # ends in -<digits>
    assert "cannot be replaced" in _error(arm.put("/computes/inferencecompute", cluster()), 409)
    assert "cannot be deleted" in _error(
        arm.delete("/computes/inferencecompute", params={"underlyingResourceAction": "Delete"}), 409
    )
    assert arm.get(f"/computes/{unique('cc')}").status_code == 404


def test_compute_concurrency(tmp_path: Path) -> None:
    ws = Workspace.open(WorkspacePaths(tmp_path / "workspace"))
    try:
        props = cluster(high=64)["properties"]
        ws.store.put("computes/big", "compute", "", "big", {"properties": props})
        ws.store.put("computes/one", "compute", "", "one", {"properties": cluster(high=1)["properties"]})
        ws.store.put(
            "computes/ci", "compute", "", "ci", {"properties": instance("Standard_DS2_v2")["properties"]}
        )
        assert compute_concurrency(ws, "big") == CORES  # bounded by this machine
        assert compute_concurrency(ws, "ONE") == 1
        assert compute_concurrency(ws, "ci") == min(VM_SIZES["Standard_DS2_v2"][0], CORES)
        assert compute_concurrency(ws, "inferencecompute") == CORES
        assert compute_concurrency(ws, "missing") is None
    finally:
        ws.store.close()
