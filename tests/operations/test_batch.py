"""Batch endpoints from Python, the magic and the command line, against the real local workspace:
a YAML deployment (settings nested under ``settings:``) with a local model, code and conda file,
an invocation on a local folder (uploaded first), the progress and errors read from the job's
logs, the output as a DataFrame, dry runs, and everything refused before anything is created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.arm import JOB_CONDA
from support.waiting import unique

from jupyter_mlep import operations as ops
from jupyter_mlep._errors import NotFoundError, ScoreScriptError, SpecError, UsageError
from jupyter_mlep.cli import main
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_batch_deployment

pytestmark = pytest.mark.usefixtures("use_workspace")

SCORE = """\
import os

def init():
    global scale
    scale = int(open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.txt")).read())

def run(mini_batch):
    rows = []
    for path in mini_batch:
        text = open(path).read()
        if text.startswith("corrupt"):
            raise ValueError("cannot read " + os.path.basename(path))
        rows.append(f"{os.path.basename(path)},{len(text.split()) * scale}")
    return rows
"""
DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: {name}
endpoint_name: {endpoint}
type: model
model:
  path: model/model.txt
code_configuration:
  code: src
  scoring_script: score.py
environment:
  image: python:3.11-slim
  conda_file: conda.yml
resources:
  instance_count: 1
settings:
  max_concurrency_per_instance: 2
  mini_batch_size: 3
  retry_settings:
    max_retries: 1
    timeout: 60
  output_file_name: scores.csv
"""


def _project(folder: Path, endpoint: str, name: str = "blue", files: int = 7) -> Path:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "model.txt").write_text("10")
    (folder / "src").mkdir()
    (folder / "src" / "score.py").write_text(SCORE)
    (folder / "conda.yml").write_text(JOB_CONDA)
    data = folder / "data"
    data.mkdir()
    for index in range(files):
        (data / f"part-{index:02d}.txt").write_text("a b c" if index % 2 else "a b")
    path = folder / "deployment.yml"
    path.write_text(DEPLOYMENT.format(name=name, endpoint=endpoint))
    return path


@pytest.fixture(scope="module")
def deployed(workspace: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A batch endpoint with one deployment made from the YAML file; deleted at the end."""
    from support.clients import make_client

    folder = tmp_path_factory.mktemp("batch")
    endpoint = unique("bat")
    path = _project(folder, endpoint)
    with make_client(workspace) as client:
        details = ops.deploy_batch(client, load_batch_deployment(path))
        yield endpoint, folder, details
        ops.delete_batch_endpoint(client, endpoint)


def test_deploy_from_yaml_makes_the_first_deployment_the_default(deployed: Any, client: RestClient) -> None:
    endpoint, _folder, details = deployed
    assert details.endpoint.default_deployment == "blue"
    (deployment,) = details.deployments
    assert (deployment.mini_batch_size, deployment.workers, deployment.output_file_name) == (
        3,
        2,
        "scores.csv",
    )
    assert deployment.provisioning_state == "Succeeded"
    assert endpoint in [e.name for e in ops.list_batch_endpoints(client).endpoints]
    assert "blue" in details.text() and details.status_payload()["kind"] == "batch-endpoint"


def test_invoke_scores_a_local_folder_and_the_output_is_a_dataframe(
    deployed: Any, client: RestClient
) -> None:
    endpoint, folder, _details = deployed
    seen: list[str] = []
    job = ops.invoke_batch(client, endpoint, folder / "data", on_update=lambda j: seen.append(j.status))
    assert job.status == "Completed", job.text()
    assert (job.progress.total, job.progress.done, job.progress.failed) == (3, 3, 0)
    assert job.progress.items_succeeded == 7 and job.deployment == "blue" and job.endpoint == endpoint
    frame = job.to_pandas()
    assert sorted(frame[0]) == [f"part-{i:02d}.txt" for i in range(7)]
    assert sorted(frame[1]) == sorted([20, 30, 20, 30, 20, 30, 20])
    assert job.output is not None and len(job.output) == 7
    listed = ops.list_batch_jobs(client, endpoint)
    assert job.name in [item.name for item in listed.jobs]


def test_a_corrupt_file_shows_in_the_errors_and_overrides_apply(
    deployed: Any, client: RestClient, tmp_path: Path
) -> None:
    endpoint, _folder, _details = deployed
    data = tmp_path / "inputs"
    data.mkdir()
    for index in range(4):
        (data / f"f{index}.txt").write_text("corrupt" if index == 2 else "x y")
    job = ops.invoke_batch(
        client, endpoint, data, mini_batch_size=1, max_retries=0, output_file_name="out.csv"
    )
    assert job.status == "Completed", job.text()
    assert (job.progress.total, job.progress.failed, job.progress.items_failed) == (4, 1, 1)
    assert any("cannot read f2.txt" in error for _where, error in job.progress.errors), job.progress.errors
    assert job.output_path is not None and job.output_path.name == "out.csv"
    assert len(job.to_pandas()) == 3 and "cannot read f2.txt" in job.text()


def test_dry_run_scores_the_first_mini_batch_here_from_the_file_and_from_the_service(
    deployed: Any, client: RestClient
) -> None:
    endpoint, folder, _details = deployed
    local = ops.dry_run(None, load_batch_deployment(folder / "deployment.yml"), folder / "data")
    assert local.files == [str(folder / "data" / f"part-{i:02d}.txt") for i in range(3)]
    assert local.result == ["part-00.txt,20", "part-01.txt,30", "part-02.txt,20"]
    remote = ops.dry_run(client, ops.get_batch_deployment(client, endpoint, "blue"), folder / "data")
    assert remote.result == local.result and "run() scored 3 of 3" in remote.text()


def test_bad_deployments_are_refused_before_anything_is_created(client: RestClient, tmp_path: Path) -> None:
    endpoint = unique("bad")
    path = _project(tmp_path, endpoint)
    text = path.read_text()
    bad = tmp_path / "bad.yml"
    bad.write_text(text.replace("mini_batch_size: 3", "mini_batch_size: 0"))
    with pytest.raises(SpecError, match="mini_batch_size"):
        ops.deploy_batch(client, load_batch_deployment(bad))
    bad.write_text(text.replace("model:\n  path: model/model.txt\n", ""))
    with pytest.raises(SpecError, match="has no model"):
        ops.deploy_batch(client, load_batch_deployment(bad))
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n")
    with pytest.raises(ScoreScriptError, match=r"no run\(mini_batch\)"):
        ops.deploy_batch(client, load_batch_deployment(path))
    with pytest.raises(NotFoundError):
        ops.get_batch_endpoint(client, endpoint)


def test_bad_inputs_are_refused_before_any_job(deployed: Any, client: RestClient, tmp_path: Path) -> None:
    endpoint, _folder, _details = deployed
    before = len(ops.list_batch_jobs(client, endpoint).jobs)
    with pytest.raises(UsageError, match="does not exist"):
        ops.invoke_batch(client, endpoint, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no files"):
        ops.invoke_batch(client, endpoint, tmp_path / "empty")
    with pytest.raises(UsageError, match="--mini-batch-size must be at least 1"):
        ops.invoke_batch(client, endpoint, tmp_path, mini_batch_size=0)
    with pytest.raises(NotFoundError, match=r"did you mean|No deployment"):
        ops.invoke_batch(client, endpoint, tmp_path, deployment="nope")
    assert len(ops.list_batch_jobs(client, endpoint).jobs) == before


def test_the_magic_and_the_command_line(
    deployed: Any, ip: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, folder, _details = deployed
    monkeypatch.setenv("MLEP_WIDGETS", "static")
    ip.run_line_magic("load_ext", "jupyter_mlep")
    job = ip.run_line_magic("batch", f"invoke {endpoint} --input {folder / 'data'} --mini-batch-size 7")
    assert job.status == "Completed" and len(job.to_pandas()) == 7
    assert "mini-batches 1/1 done" in capsys.readouterr().out
    dry = ip.run_line_magic("batch", f"dry-run {endpoint} --input {folder / 'data'}")
    assert dry.rows == 3
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("batch", f"invoke {endpoint}")
    assert "--input" in str(caught.value)
    assert main(["batch", "show", endpoint, "-o", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["deployments"][0]["name"] == "blue"
    assert main(["batch", "jobs", endpoint]) == 0
    assert job.name in capsys.readouterr().out
    assert main(["batch", "invoke", endpoint, "--input", str(folder / "nothing")]) == 2  # a usage error
    err = capsys.readouterr().err
    assert "does not exist" in err and "%batch" not in err


def test_mlep_create_show_list_and_delete_take_the_batch_kinds(
    deployed: Any, ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _folder, _details = deployed
    monkeypatch.setenv("MLEP_WIDGETS", "static")
    ip.run_line_magic("load_ext", "jupyter_mlep")
    other = unique("bnew")
    path = tmp_path / "endpoint.yml"
    path.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json\n"
        f"name: {other}\nauth_mode: aad_token\n"
    )
    created = ip.run_line_magic("mlep", f"create -f {path}")
    assert created.endpoint.name == other and created.endpoint.scoring_uri
    shown = ip.run_line_magic("mlep", f"show batch-deployment blue --endpoint-name {endpoint}")
    assert [d.name for d in shown.deployments] == ["blue"]
    listed = ip.run_line_magic("mlep", "list batch-endpoint")
    assert {endpoint, other} <= {e.name for e in listed.endpoints}
    ip.run_line_magic("mlep", f"delete batch-endpoint {other}")
    with pytest.raises(NotFoundError):
        ip.run_line_magic("mlep", f"show batch-endpoint {other}")


def test_a_registered_data_asset_and_a_datastore_uri_are_inputs(deployed: Any, client: RestClient) -> None:
    from jupyter_mlep.specs import Data

    endpoint, folder, _details = deployed
    name = unique("bdata")
    asset = ops.register_data(client, Data(name=name, version="1", type="uri_folder", path=folder / "data"))
    job = ops.invoke_batch(client, endpoint, f"azureml:{name}:1")
    assert job.status == "Completed" and len(job.to_pandas()) == 7, job.text()
    again = ops.invoke_batch(client, endpoint, asset.uri)  # azureml://datastores/…/paths/…/
    assert again.status == "Completed" and len(again.to_pandas()) == 7, again.text()
