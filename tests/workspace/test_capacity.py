"""Capacity: a deployment (or a scale) above this machine's instance limit is refused with a 400
before anything is stored; the limit comes from cores and memory, or ``MLEP_MAX_INSTANCES``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from support.arm import Arm, deployment_body, register_code, register_environment, register_model
from support.samples import SCORE_MODEL_1

from jupyter_mlep._errors import SettingsError
from jupyter_mlep.runtime import RuntimeSettings


def test_the_default_limit_comes_from_cores_and_memory() -> None:
    settings = RuntimeSettings.from_env({})
    cores = os.cpu_count() or 1
    memory_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    assert settings.max_instances == max(1, min(4 * cores, memory_mib // 512))
    reason = settings.max_instances_reason
    assert f"{cores} core" in reason and f"{memory_mib} MiB of memory" in reason


def test_the_limit_is_a_setting() -> None:
    settings = RuntimeSettings.from_env({"MLEP_MAX_INSTANCES": "3"})
    assert settings.max_instances == 3 and "MLEP_MAX_INSTANCES" in settings.max_instances_reason
    for wrong in ("0", "many", "-2"):
        with pytest.raises(SettingsError, match="MLEP_MAX_INSTANCES"):
            RuntimeSettings.from_env({"MLEP_MAX_INSTANCES": wrong})


def test_a_deployment_above_the_limit_is_refused_before_anything_is_stored(arm: Arm, model_1: Path) -> None:
    limit = RuntimeSettings.from_env().max_instances  # the workspace runs in this environment
    endpoint = f"capacity-{uuid.uuid4().hex[:6]}"
    arm.ok(arm.put(f"/onlineEndpoints/{endpoint}", {"location": "local", "properties": {"authMode": "Key"}}))
    path = f"/onlineEndpoints/{endpoint}/deployments/huge"
    body = deployment_body(
        register_model(arm, "capacity-model", model_1 / "model"),
        register_code(arm, "capacity-code", SCORE_MODEL_1),
        register_environment(arm, "capacity-env", model_1 / "environment" / "conda.yaml"),
        capacity=limit + 1,
    )
    response = arm.put(path, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BadArgument" and error["target"] == "sku.capacity"
    message = error["message"]
    assert f"sku.capacity {limit + 1}" in message and f"limit of {limit} instance" in message
    assert "MLEP_MAX_INSTANCES" in message and ("core" in message or "set by" in message)
    assert arm.get(path).status_code == 404  # nothing was stored
    assert "Azure-AsyncOperation" not in response.headers
    arm.ok(arm.delete(f"/onlineEndpoints/{endpoint}"))
