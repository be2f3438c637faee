"""``%mlep create -f FILE`` for every kind, and ``show``/``list``/``delete`` by kind and name: through
the magic (a real IPython shell), the command line (a subprocess) and Python, against the local
workspace. The azureml-examples files are read where they are (never copied); kinds the examples
have no file for (environment, data, compute) are written here in the same CLI v2 shape."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.samples import EXPECTED_MODEL_1, MODEL_1, SampleTree, close_to
from support.waiting import unique

import jupyter_mlep
from jupyter_mlep import NotFoundError, PlaceholderError, SpecError, SpecValidationError, UsageError
from jupyter_mlep import operations as ops
from jupyter_mlep._resource_kinds import RESOURCE_KINDS
from jupyter_mlep.cli import main
from jupyter_mlep.rest import RestClient
from jupyter_mlep.verbs import MLEP, cheat_sheet, cli_text
from jupyter_mlep.verbs.mlep._kinds import add_kind

pytestmark = pytest.mark.usefixtures("use_workspace")

CLI = Path(sys.executable).with_name("jupyter-mlep")
SCHEMA = "$schema: https://azuremlschemas.azureedge.net/latest/{}.schema.json\n"


def mlep(ip: Any, text: str) -> Any:
    """Run ``%mlep text``; its result (its exception propagates)."""
    return ip.run_line_magic("mlep", text)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLEP_HOME": str(home)}
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def test_kinds_have_one_source() -> None:
    parser = argparse.ArgumentParser()
    add_kind(parser)
    (kind,) = (action for action in parser._actions if action.dest == "kind")
    assert kind.choices is RESOURCE_KINDS
    assert ops.RESOURCE_KINDS is RESOURCE_KINDS
    assert (
        cli_text("%mlep create -f m.yml and %mlep status")
        == "jupyter-mlep create -f m.yml and jupyter-mlep status"
    )
    assert MLEP.command == "jupyter-mlep"


def test_readme_cheat_sheet_and_help_come_from_the_registry(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `%mlep create -f`: any Azure ML CLI v2 YAML\n", 1)[1]
    assert cheat_sheet(MLEP) in section
    assert {verb for verb, _ in MLEP.tour} == set(MLEP.verbs)
    for verb in MLEP.all():
        assert all(example.startswith(f"%mlep {verb.name} ") for example in verb.examples)
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert all(f"    {verb}" in top for verb in MLEP.verbs)
    assert main(["create", "--help"]) == 0
    assert "jupyter-mlep create -f model.yml" in capsys.readouterr().out
    assert mlep(ip, "-h") is None and "create" in capsys.readouterr().out
    assert "%mlep create -f FILE.yml" in ip.find_line_magic("mlep").__doc__


def test_models_from_the_examples(ip: Any, azureml_examples: Path) -> None:
    assets = azureml_examples / "cli" / "assets" / "model"
    name = unique("local-file")
    created = mlep(ip, f"create -f {assets / 'local-file.yml'} --name {name}")
    assert isinstance(created, ops.ResourceResult) and created.resource_kind == "model"
    assert (created.name, created.version) == (name, "1") and created.fields["type"] == "CustomModel"
    assert created.fields["path"].endswith("/model.pkl")
    again = mlep(ip, f"create -f {assets / 'local-file.yml'} --name {name} --set tags.stage=dev")
    assert again.version == "1" and again.note.startswith("unchanged")
    assert again.fields["tags"] == {"stage": "dev"}  # tags are not content: the same version

    mlflow = unique("mlflow")
    created = mlep(ip, f"create -f {assets / 'local-mlflow.yml'} --name {mlflow} --set version=3")
    assert created.version == "3" and created.fields["type"] == "MLFlowModel"
    shown = mlep(ip, f"show model {mlflow}")
    assert shown.version == "3" and "Local MLflow model" not in shown.text()
    assert "model.schema" not in shown.text() and shown.fields["description"].startswith("Model created")
    listed = mlep(ip, "list model")
    assert mlflow in [row[0] for row in listed.rows]
    mlep(ip, f"delete model {mlflow} --version 3")
    with pytest.raises(NotFoundError):
        mlep(ip, f"show model {mlflow} --version 3")


def test_environment_data_and_compute(ip: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_name, data_name, compute = unique("env"), unique("iris"), unique("cpu")
    conda = MODEL_1 / "environment" / "conda.yaml"
    env_file = write(
        tmp_path,
        "environment.yml",
        SCHEMA.format("environment")
        + f"name: {env_name}\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest\n"
        f"conda_file: {conda}\ndescription: model-1's environment\n",
    )
    first = mlep(ip, f"create -f {env_file}")
    assert (first.resource_kind, first.version, first.fields["conda_file"]) == ("environment", "1", "yes")
    assert mlep(ip, f"create -f {env_file}").version == "1"  # same content: the latest version is kept
    described = mlep(ip, f"create -f {env_file} --set description=changed")
    assert described.version == "1" and described.fields["description"] == "changed"  # a mutable field
    image = "mcr.microsoft.com/azureml/minimal-py312-inference:latest"
    changed = mlep(ip, f"create -f {env_file} --set image={image}")
    assert changed.version == "2" and changed.fields["image"] == image  # 409 on 1, then nextVersion

    (tmp_path / "iris.csv").write_text("sepal_length,species\n5.1,setosa\n")
    data_file = write(
        tmp_path, "data.yml", SCHEMA.format("data") + f"name: {data_name}\ntype: uri_file\npath: iris.csv\n"
    )
    data = mlep(ip, f"create -f {data_file} --set version=7")
    assert data.version == "7" and data.fields["type"] == "uri_file"
    assert data.fields["path"].startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    url = write(
        tmp_path,
        "remote.yml",
        SCHEMA.format("data")
        + f"name: {data_name}\ntype: uri_folder\npath: wasbs://datasets@azuremlexamples.blob.core.windows.net/\n",
    )
    assert mlep(ip, f"create -f {url}").version == "8"
    versions = mlep(ip, f"list data --name {data_name}")
    assert sorted(row[0] for row in versions.rows) == ["7", "8"]

    cluster = write(
        tmp_path,
        "cluster.yml",
        SCHEMA.format("amlCompute")
        + f"name: {compute}\ntype: amlcompute\nsize: STANDARD_DS3_V2\nmin_instances: 0\nmax_instances: 2\n"
        "idle_time_before_scale_down: 120\n",
    )
    made = mlep(ip, f"create -f {cluster} --set max_instances=3")
    assert (made.resource_kind, made.state) == ("compute", "Succeeded")
    assert made.fields["max_instances"] == 3 and made.fields["size"] == "Standard_DS3_v2"
    table = mlep(ip, "list compute")
    rows = {row[0]: row for row in table.rows}
    assert rows[compute][1:4] == ["AmlCompute", "Standard_DS3_v2", "3"] and "inferencecompute" in rows
    instance = write(
        tmp_path,
        "instance.yml",
        SCHEMA.format("computeInstance")
        + f"name: {compute}-ci\ntype: computeinstance\nsize: Standard_DS11_v2\n",
    )
    assert mlep(ip, f"create -f {instance}").fields["state"] == "Running"
    capsys.readouterr()
    for kind, name in (("compute", compute), ("compute", f"{compute}-ci"), ("data", data_name)):
        assert mlep(ip, f"delete {kind} {name} -y") is None
    assert f"Deleted compute {compute}." in capsys.readouterr().out
    with pytest.raises(NotFoundError):
        mlep(ip, f"show compute {compute}")
    with pytest.raises(NotFoundError):
        mlep(ip, f"delete data {data_name}")


def test_code_and_datastore(ip: Any, tmp_path: Path, client: RestClient) -> None:
    code, store = unique("src"), unique("blobs").replace("-", "_")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print('hello')\n")
    code_file = write(
        tmp_path, "code.yml", SCHEMA.format("code") + f"name: {code}\npath: src\ntags: {{team: ml}}\n"
    )
    made = mlep(ip, f"create -f {code_file}")
    assert (made.resource_kind, made.version, made.fields["tags"]) == ("code", "1", {"team": "ml"})
    assert mlep(ip, f"create -f {code_file}").note.startswith("unchanged")

    blob = write(
        tmp_path,
        "blob.yml",
        SCHEMA.format("azureBlob")
        + f"name: {store}\ntype: azure_blob\naccount_name: mlepstore\ncontainer_name: data\n"
        "credentials:\n  account_key: c2VjcmV0\n",
    )
    made = mlep(ip, f"create -f {blob}")
    assert (made.resource_kind, made.fields["type"], made.fields["container"]) == (
        "datastore",
        "AzureBlob",
        "data",
    )
    assert "c2VjcmV0" not in made.text()
    assert client.post(client.paths.datastore(store, "listSecrets"), {}) == {
        "secretsType": "AccountKey",
        "key": "c2VjcmV0",
    }
    assert store in [row[0] for row in mlep(ip, "list datastore").rows]
    mlep(ip, f"delete datastore {store}")
    with pytest.raises(NotFoundError):
        mlep(ip, f"show datastore {store}")
    mlep(ip, f"delete code {code}")


def test_online_endpoint_and_deployment_from_the_examples(
    ip: Any, tmp_path: Path, azureml_examples: Path, client: RestClient
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, unique("mk"))
    name = tree.endpoint
    created = mlep(ip, f"create -f {tree.endpoint_yml}")
    assert isinstance(created, ops.EndpointDetails) and created.endpoint.name == name
    try:
        deployed = mlep(ip, f"create -f {tree.blue} --endpoint-name {name} --all-traffic")
        assert isinstance(deployed, ops.DeployResult) and deployed.traffic == {"blue": 100}
        assert close_to(ops.invoke(client, name, tree.payload()).body, EXPECTED_MODEL_1)
        shown = mlep(ip, f"show online-deployment blue -e {name}")
        assert [d.name for d in shown.deployments] == ["blue"]
        listed = mlep(ip, f"list online-deployment --endpoint-name {name}")
        assert [row[0] for row in listed.rows] == ["blue"]
        assert name in [e.name for e in mlep(ip, "list online-endpoint").endpoints]
    finally:
        mlep(ip, f"delete online-endpoint {name}")
    with pytest.raises(NotFoundError):
        ops.get_endpoint(client, name)


def test_refusals_before_any_request(ip: Any, tmp_path: Path, azureml_examples: Path) -> None:
    online = azureml_examples / "cli" / "endpoints" / "online"
    with pytest.raises(PlaceholderError, match=r"\{\{MODEL_VERSION\}\}"):
        mlep(ip, f"create -f {online / 'managed/minimal/single-model-registered/model.yml'}")
    bare = write(tmp_path, "bare.yml", "name: thing\npath: x\n")
    with pytest.raises(SpecError, match="has no \\$schema") as unknown:
        mlep(ip, f"create -f {bare}")
    assert "model.schema.json" in unknown.value.hint and "computeInstance.schema.json" in unknown.value.hint
    odd = write(tmp_path, "odd.yml", SCHEMA.format("batchEndpoint") + "name: b\n")
    with pytest.raises(SpecError, match="not a kind jupyter_mlep reads") as other:
        mlep(ip, f"create -f {odd}")
    assert "amlCompute.schema.json" in other.value.hint and "commandJob.schema.json" in other.value.hint
    missing = write(tmp_path, "model.yml", SCHEMA.format("model") + f"name: {unique('m')}\npath: nowhere\n")
    with pytest.raises(SpecError, match="does not exist"):
        mlep(ip, f"create -f {missing}")
    nameless = write(tmp_path, "data.yml", SCHEMA.format("data") + "path: https://example.com/iris.csv\n")
    with pytest.raises(SpecValidationError, match="has no name"):
        mlep(ip, f"create -f {nameless}")
    with pytest.raises(UsageError, match="--endpoint-name applies to online deployments"):
        mlep(ip, f"create -f {nameless} --endpoint-name ep")
    with pytest.raises(UsageError, match="belongs to an endpoint"):
        mlep(ip, "show online-deployment blue")
    with pytest.raises(UsageError, match="invalid choice"):
        mlep(ip, "list widget")
    # %mlep status and use still work next to the new verbs
    assert mlep(ip, "status").target == "local"


def test_command_line_and_python(
    ops_home: Path, tmp_path: Path, azureml_examples: Path, client: RestClient
) -> None:
    name = unique("cli-model")
    model_file = (
        azureml_examples / "cli" / "endpoints" / "online" / "managed" / "inference-schema" / "model.yml"
    )
    made = cli(ops_home, "create", "-f", str(model_file), "--name", name, "-o", "json")
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert (summary["resource_kind"], summary["name"], summary["version"]) == ("model", name, "1")
    table = cli(ops_home, "show", "model", name)
    assert table.returncode == 0 and f"model {name}:1" in table.stdout and "CustomModel" in table.stdout
    listed = cli(ops_home, "list", "model", "--output", "json")
    assert name in [item["name"] for item in json.loads(listed.stdout)["items"]]
    job = unique("cli-job").replace("-", "_")
    made_job = cli(
        ops_home,
        "create",
        "-f",
        str(azureml_examples / "cli/jobs/basics/hello-world.yml"),
        "--name",
        job,
        "-o",
        "json",
    )
    assert made_job.returncode == 0, made_job.stderr
    try:
        assert json.loads(made_job.stdout)["name"] == job  # a job file creates a job, as az ml job create
        shown = cli(ops_home, "show", "job", job, "-o", "json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["type"] == "Command"
    finally:
        ops.cancel_job(client, job)
    usage = cli(ops_home, "show", "widget", "x")
    assert usage.returncode == 2
    deleted = cli(ops_home, "delete", "model", name, "--yes")
    assert deleted.returncode == 0 and f"Deleted model {name} (every version)." in deleted.stderr

    # the same verbs as Python functions over a client
    compute = unique("py")
    spec_file = write(
        tmp_path,
        "c.yml",
        SCHEMA.format("amlCompute") + f"name: {compute}\ntype: amlcompute\nmax_instances: 1\n",
    )
    result = jupyter_mlep.create_resource(client, spec_file, overrides={"tier": "low_priority"})
    assert result.fields["tier"] == "LowPriority" and result.status_payload()["kind"] == "resource"
    assert jupyter_mlep.show_resource(client, "compute", compute).name == compute
    assert compute in [row[0] for row in jupyter_mlep.list_resources(client, "compute").rows]  # type: ignore[union-attr]
    assert jupyter_mlep.delete_resource(client, "compute", compute) == f"Deleted compute {compute}."
