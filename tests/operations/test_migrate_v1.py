"""``migrate-v1``: v1 inferenceconfig.json + deploymentconfig.json (tests/fixtures/v1, written in the
v1 schemas) → v2 YAML. Every v1 field is carried or listed as dropped; the output deploys unchanged
on the local workspace with ``%endpoint create -f`` / ``deploy -f``; the command line runs the same
verb; mistakes are refused before anything is written."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.samples import EXPECTED_MODEL_1, close_to

from jupyter_mlep import SpecError
from jupyter_mlep.cli import main
from jupyter_mlep.operations import V1Migration, migrate_v1
from jupyter_mlep.specs import v1_instance_type

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "v1"
ACI = (V1 / "aci" / "inferenceconfig.json", V1 / "aci" / "deploymentconfig.json")
AKS = (V1 / "aks" / "inferenceconfig.json", V1 / "aks" / "deploymentconfig.json")
# objects whose members are one setting each; any other object is one setting as a whole
_NESTED = {
    "containerResourceRequirements",
    "autoScaler",
    "livenessProbeRequirements",
    "environment",
    "docker",
    "python",
}

ACI_DROPPED = {
    "deploymentconfig.authEnabled",
    "deploymentconfig.cname",
    "deploymentconfig.dnsNameLabel",
    "deploymentconfig.location",
    "deploymentconfig.sslCertificate",
    "deploymentconfig.sslEnabled",
    "deploymentconfig.sslKey",
    "inferenceconfig.baseImageRegistry",
    "inferenceconfig.condaFile: pip azureml-defaults",
    "inferenceconfig.cudaVersion",
    "inferenceconfig.extraDockerfileSteps",
}


def _fields(data: dict[str, Any], prefix: str) -> set[str]:
    found = set()
    for key, value in data.items():
        where = f"{prefix}.{key}"
        if key in _NESTED and isinstance(value, dict) and set(value) - {"name", "version"}:
            found |= _fields(value, where)
        else:
            found.add(where)
    return found


def _all_fields(pair: tuple[Path, Path]) -> set[str]:
    inference, deployment = (json.loads(path.read_text()) for path in pair)
    return _fields(inference, "inferenceconfig") | _fields(deployment, "deploymentconfig")


@pytest.mark.parametrize(
    ("pair", "to"),
    [(ACI, None), (AKS, None), (AKS, "kubernetes")],
    ids=["aci", "aks-managed", "aks-kubernetes"],
)
def test_every_v1_field_is_carried_or_listed_as_dropped(
    tmp_path: Path, pair: tuple[Path, Path], to: str | None
) -> None:
    result = migrate_v1(*pair, endpoint="migrated", out=tmp_path / "v2", to=to, model="sk:1")
    fields = {key.split(": ")[0] for key in [*result.carried, *result.dropped]}
    assert fields == _all_fields(pair)
    assert not set(result.carried) & set(result.dropped)
    assert all(reason for reason in result.dropped.values())
    text = result.text()
    for key, reason in result.dropped.items():
        assert key in text and reason in text  # every dropped setting is printed with its reason


def test_aci_fields_and_the_dropped_list(tmp_path: Path) -> None:
    result = migrate_v1(*ACI, endpoint="from-aci", out=tmp_path / "v2")
    assert set(result.dropped) == ACI_DROPPED
    endpoint = yaml.safe_load((tmp_path / "v2" / "endpoint.yml").read_text())
    deployment = yaml.safe_load((tmp_path / "v2" / "deployment.yml").read_text())
    assert endpoint["$schema"].endswith("/managedOnlineEndpoint.schema.json")
    assert endpoint["auth_mode"] == "key" and endpoint["tags"] == {"team": "pricing"}
    assert deployment["instance_type"] == "Standard_DS1_v2"  # 0.5 cores, 1 GB: the smallest size
    assert deployment["app_insights_enabled"] is True and deployment["instance_count"] == 1
    assert deployment["environment"]["conda_file"] == "conda.yaml"
    conda = yaml.safe_load((tmp_path / "v2" / "conda.yaml").read_text())
    assert "azureml-inference-server-http" in conda["dependencies"][-1]["pip"]
    assert "azureml-defaults" not in conda["dependencies"][-1]["pip"]
    assert "model" not in deployment  # none given: the result says to add one
    assert result.to_do and "add model:" in result.to_do[0] and "Before deploying:" in result.text()
    assert result.script_notes == ["passes the inference server's checks"]


def test_aks_to_kubernetes_keeps_autoscale_probes_and_requests(tmp_path: Path) -> None:
    migrate_v1(*AKS, endpoint="from-aks", out=tmp_path, to="kubernetes", compute="inferencecompute")
    endpoint = yaml.safe_load((tmp_path / "endpoint.yml").read_text())
    deployment = yaml.safe_load((tmp_path / "deployment.yml").read_text())
    assert endpoint["compute"] == "azureml:inferencecompute"
    assert deployment["scale_settings"] == {
        "type": "target_utilization",
        "min_instances": 1,
        "max_instances": 3,
        "polling_interval": 10,
        "target_utilization_percentage": 70,
    }
    assert deployment["request_settings"] == {
        "request_timeout_ms": 10000,
        "max_concurrent_requests_per_instance": 2,
        "max_queue_wait_ms": 2000,
    }
    assert deployment["liveness_probe"]["initial_delay"] == 310
    assert deployment["resources"] == {
        "requests": {"cpu": "0.25", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1024Mi"},
    }
    assert deployment["environment_variables"] == {"SCALE": "1.0"}


def test_aks_to_managed_says_how_autoscale_moves(tmp_path: Path) -> None:
    result = migrate_v1(*AKS, endpoint="from-aks", out=tmp_path)
    deployment = yaml.safe_load((tmp_path / "deployment.yml").read_text())
    assert "scale_settings" not in deployment and deployment["instance_count"] == 1
    assert "Azure Monitor autoscale" in result.dropped["deploymentconfig.autoScaler.maxReplicas"]
    assert "pass --to kubernetes" in result.dropped["deploymentconfig.computeTargetName"]


def test_instance_type_is_the_smallest_fitting_size() -> None:
    assert v1_instance_type(0.5, 1) == "Standard_DS1_v2"
    assert v1_instance_type(2, 5) == "Standard_DS2_v2"
    assert v1_instance_type(1, 10) == "Standard_DS11_v2"
    assert v1_instance_type(1, 4, gpu=True) == "Standard_NC4as_T4_v3"
    with pytest.raises(SpecError, match="No VM size offers 200 cores"):
        v1_instance_type(200, 1)


def test_mistakes_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "v2"
    with pytest.raises(SpecError, match="Cannot read"):
        migrate_v1(tmp_path / "missing.json", ACI[1], endpoint="x-aci", out=out)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="is not valid JSON"):
        migrate_v1(ACI[0], bad, endpoint="x-aci", out=out)
    bad.write_text(json.dumps({"computeType": "fpga"}))
    with pytest.raises(SpecError, match="converts aci, aks and local"):
        migrate_v1(ACI[0], bad, endpoint="x-aci", out=out)
    with pytest.raises(SpecError, match="needs its compute") as caught:
        migrate_v1(*ACI, endpoint="x-aci", out=out, to="kubernetes")
    assert "--compute NAME" in caught.value.hint
    assert not out.exists()
    migrate_v1(*ACI, endpoint="x-aci", out=out)
    before = (out / "deployment.yml").read_text()
    with pytest.raises(SpecError, match="already exist") as caught:
        migrate_v1(*ACI, endpoint="x-aci", out=out, model="other:2")
    assert "--overwrite" in caught.value.hint
    assert (out / "deployment.yml").read_text() == before
    migrate_v1(*ACI, endpoint="x-aci", out=out, model="other:2", overwrite=True)
    assert "azureml:other:2" in (out / "deployment.yml").read_text()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["migrate-v1", "--inference-config", str(ACI[0]), "--deployment-config", str(ACI[1])]
    argv += ["--endpoint", "cli-aci", "--out", str(tmp_path / "v2")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Not carried over (11):" in out and "deploymentconfig.sslEnabled" in out
    assert main([*argv, "--output", "json", "--overwrite"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown["dropped"]) == ACI_DROPPED
    assert main([*argv]) == 1
    assert "already exist" in capsys.readouterr().err
    assert main(["endpoint", *argv, "--overwrite"]) == 0  # the same verb under endpoint


@pytest.mark.usefixtures("use_workspace")
@pytest.mark.parametrize("to", ["managed", "kubernetes"])
def test_output_deploys_unchanged(ip: Any, tmp_path: Path, model_1: Path, to: str) -> None:
    pair = ACI if to == "managed" else AKS
    name = f"v1-{to[:4]}-{uuid.uuid4().hex[:6]}"
    out = tmp_path / "v2"
    line = f"migrate-v1 --inference-config {pair[0]} --deployment-config {pair[1]} --endpoint {name} "
    line += f"--out {out} --model {model_1 / 'model'} --to {to} --compute inferencecompute"
    migrated = ip.run_line_magic("endpoint", line)
    assert isinstance(migrated, V1Migration)
    ip.run_line_magic("endpoint", f"create -f {out / 'endpoint.yml'}")
    try:
        ip.run_line_magic("endpoint", f"deploy -f {out / 'deployment.yml'} --all-traffic")
        request = json.loads((model_1 / "sample-request.json").read_text())
        ip.user_ns["request"] = request
        result = ip.run_line_magic("endpoint", f"invoke {name} --data $request")
        assert close_to(result, EXPECTED_MODEL_1)  # the magic returns the answer's body
    finally:
        ip.run_line_magic("endpoint", f"delete {name}")
