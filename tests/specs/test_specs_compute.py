"""Compute specs: compute clusters and compute instances read from CLI v2 YAML, checked, and turned
into ComputeResource bodies and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlep import SpecError, SpecValidationError
from jupyter_mlep.specs import AmlCompute, Compute, ComputeInstance, detect_kind, load_compute, load_spec

CLUSTER = "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
INSTANCE = "$schema: https://azuremlschemas.azureedge.net/latest/computeInstance.schema.json\n"


def write(tmp_path: Path, text: str, name: str = "compute.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_cluster_round_trip(tmp_path: Path) -> None:
    text = CLUSTER + (
        "name: cpu-cluster\ntype: amlcompute\nsize: STANDARD_DS3_v2\nmin_instances: 0\nmax_instances: 4\n"
        "idle_time_before_scale_down: 180\ntier: LowPriority\n"
    )
    spec = load_spec(write(tmp_path, text))
    assert isinstance(spec, AmlCompute) and spec.tier == "low_priority"
    body = spec.to_rest(location="local")
    props = body["properties"]["properties"]
    assert body["properties"]["computeType"] == "AmlCompute"
    assert props["vmPriority"] == "LowPriority"
    assert props["scaleSettings"] == {
        "minNodeCount": 0,
        "maxNodeCount": 4,
        "nodeIdleTimeBeforeScaleDown": "PT3M",
    }
    back = Compute.from_rest({**body, "name": "cpu-cluster"})
    assert isinstance(back, AmlCompute)
    assert (back.size, back.max_instances, back.idle_time_before_scale_down) == ("STANDARD_DS3_v2", 4, 180)


def test_instance_round_trip(tmp_path: Path) -> None:
    text = (
        INSTANCE
        + "name: my-ci\ntype: computeinstance\nsize: Standard_DS11_v2\nidle_time_before_shutdown_minutes: 30\n"
    )
    spec = load_compute(write(tmp_path, text))
    assert isinstance(spec, ComputeInstance)
    body = spec.to_rest()
    assert body["properties"]["properties"]["idleTimeBeforeShutdown"] == "PT30M"
    assert Compute.from_rest({**body, "name": "my-ci"}).idle_time_before_shutdown == "PT30M"  # type: ignore[attr-defined]


def test_kind_from_type_alone() -> None:
    assert detect_kind({"type": "amlcompute"}) == "amlCompute"
    assert detect_kind({"type": "ComputeInstance"}) == "computeInstance"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CLUSTER + "name: c-1\n", "compute name 'c-1' is invalid"),
        (CLUSTER + "name: cpu\nmin_instances: 3\nmax_instances: 1\n", "more than max_instances"),
        (CLUSTER + "name: cpu\nmax_instances: 0\n", "at least 1"),
        (CLUSTER + "name: cpu\nmin_instances: -1\n", "must not be negative"),
        (INSTANCE + "name: my-ci\nidle_time_before_shutdown_minutes: 5\n", "15 minutes"),
        (INSTANCE + "name: my-ci\nidle_time_before_shutdown: soon\n", "not an ISO 8601 duration"),
    ],
)
def test_rules(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecValidationError, match=message):
        load_spec(write(tmp_path, text))


def test_unknown_keys_and_other_kinds(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown key 'max_nodes'"):
        load_spec(write(tmp_path, CLUSTER + "name: cpu\nmax_nodes: 2\n"))
    model = "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\nname: m\npath: x\n"
    with pytest.raises(SpecError, match="is a model spec"):
        load_compute(write(tmp_path, model))
