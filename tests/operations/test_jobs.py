"""Creating jobs from specs, ``%%job`` cells and ``jupyter-mlep job``: local code, environments and
inputs are registered first, everything checkable is checked before anything is created."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlep import (
    JobDetails,
    JobFailedError,
    cancel_job,
    create_job,
    get_job,
    get_job_logs,
    list_jobs,
    wait_for_job,
)
from jupyter_mlep._errors import NotFoundError, SpecError, UsageError
from jupyter_mlep.cli import main
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_job, spec_from_dict

pytestmark = pytest.mark.usefixtures("use_workspace")

CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - numpy\n"


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('training')\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("x,y\n1,2\n")
    conda = tmp_path / "conda.yml"
    conda.write_text(CONDA)
    return code, data, conda


def _stop(client: RestClient, name: str) -> None:
    """Leave nothing running after the test."""
    cancel_job(client, name)


def test_a_command_job_registers_its_code_environment_and_local_inputs_first(
    client: RestClient, tmp_path: Path
) -> None:
    code, data, conda = _tree(tmp_path)
    name = _name("ops")
    spec = spec_from_dict(
        {
            "type": "command",
            "command": "python train.py --rows ${{inputs.rows}} --alpha ${{inputs.alpha}} --out ${{outputs.model}}",
            "code": str(code),
            "environment": {
                "conda_file": str(conda),
                "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04",
            },
            "inputs": {"rows": {"type": "uri_folder", "path": str(data)}, "alpha": 0.5},
            "outputs": {"model": {"type": "uri_folder"}},
            "experiment_name": "jobs-test",
        },
        kind="commandJob",
    )
    steps: list[str] = []
    job = create_job(client, spec, name=name, on_step=steps.append)
    try:
        assert isinstance(job, JobDetails) and job.name == name and job.job_type == "Command"
        assert job.experiment == "jobs-test" and job.status
        body = client.get(client.paths.job(name))["properties"]
        assert "/codes/" in body["codeId"] and "/environments/" in body["environmentId"]
        assert client.get(body["codeId"])["properties"]["codeUri"]
        rows = body["inputs"]["rows"]
        assert rows["jobInputType"] == "uri_folder"
        assert rows["uri"].startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
        assert rows["uri"].endswith("/data/")
        assert body["inputs"]["alpha"] == {"jobInputType": "literal", "value": "0.5"}
        assert any(step.startswith("input rows:") for step in steps), steps
        assert any(name in item.name for item in list_jobs(client, experiment="jobs-test").jobs)
        assert get_job(client, name).to_dict()["inputs"]["alpha"]["value"] == "0.5"
    finally:
        _stop(client, name)
    assert get_job(client, name).ended


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"name": "bad name!"}, SpecError, "not a valid job name"),
        ({"code": "missing-folder"}, SpecError, "missing-folder"),
        ({"inputs": {"rows": {"type": "uri_folder", "path": "no-such-data"}}}, SpecError, "no-such-data"),
        ({"command": "python train.py ${{inputs.nope}}"}, SpecError, "nope"),
    ],
)
def test_bad_input_is_refused_before_anything_is_created(
    client: RestClient, tmp_path: Path, change: dict[str, Any], error: type[Exception], words: str
) -> None:
    code, _data, conda = _tree(tmp_path)
    name = _name("bad")
    data = {
        "type": "command",
        "name": name,
        "command": "python train.py",
        "code": str(code),
        "environment": {"conda_file": str(conda), "image": "python:3.11"},
        **change,
    }
    with pytest.raises(error, match=words):
        create_job(client, spec_from_dict(data, kind="commandJob"))
    with pytest.raises(NotFoundError):
        client.get(client.paths.asset("codes", f"{name}-code"))
    with pytest.raises(NotFoundError):
        client.get(client.paths.job(name))


def test_job_cell_magic_writes_the_cell_and_creates_the_job(
    ip: Any, client: RestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conda.yml").write_text(CONDA)
    (tmp_path / "rows.csv").write_text("x\n1\n")
    name = _name("cell")
    cell = "import sys\nprint('args', sys.argv)\n"
    job = ip.run_cell_magic(
        "job",
        f"{name} --env conda.yml --input rows=rows.csv --input alpha=0.1 --output-name model"
        " --experiment cells --no-wait",
        cell,
    )
    try:
        assert (tmp_path / "job-src" / "train.py").read_text() == cell
        assert job.name == name and job.experiment == "cells"
        body = client.get(client.paths.job(name))["properties"]
        assert body["command"] == (
            "python train.py --rows ${{inputs.rows}} --alpha ${{inputs.alpha}} --model ${{outputs.model}}"
        )
        assert body["inputs"]["rows"]["jobInputType"] == "uri_file"
        assert body["inputs"]["rows"]["uri"].endswith("/rows.csv")
        assert body["outputs"]["model"]["jobOutputType"] == "uri_folder"
        shown = ip.run_line_magic("job", f"show {name}")
        assert shown.name == name and f"Job {name}" in shown.text()
    finally:
        _stop(client, name)


def test_job_magic_errors_say_what_to_fix(ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="needs --env"):
        ip.run_cell_magic("job", "x", "print(1)")
    with pytest.raises(UsageError, match="cell is empty"):
        ip.run_cell_magic("job", "x --image python:3.11", "  \n")
    with pytest.raises(UsageError, match="does not exist"):
        ip.run_line_magic("job", "run x --image python:3.11 --script nothing.py")
    assert not (tmp_path / "job-src").exists()


def test_job_create_from_an_azureml_examples_file(
    client: RestClient, azureml_examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _name("cli")
    source = azureml_examples / "cli" / "jobs" / "basics" / "hello-world-input.yml"
    assert load_job(source).inputs
    assert main(["job", "create", "-f", str(source), "--name", name, "--no-wait", "-o", "json"]) == 0
    try:
        shown = json.loads(capsys.readouterr().out)
        assert shown["name"] == name and shown["inputs"]["hello_number"]["value"] == "42"
        assert main(["job", "list", "-o", "json"]) == 0
        assert name in [job["name"] for job in json.loads(capsys.readouterr().out)["jobs"]]
        assert main(["job", "show", "no-such-job"]) == 1
        assert "no-such-job" in capsys.readouterr().err
    finally:
        _stop(client, name)


TRAIN = """\
import os
import sys

import mlflow

mlflow.log_param("alpha", "0.5")
for step in range(3):
    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
out = sys.argv[sys.argv.index("--model") + 1]
with open(os.path.join(out, "weights.txt"), "w") as handle:
    handle.write("w=1")
print("trained in run", os.environ["AZUREML_RUN_ID"])
"""

MLFLOW_CONDA = "name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow-skinny\n"


def test_a_job_cell_logs_metrics_with_mlflow_and_its_output_becomes_a_model(
    ip: Any, client: RestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conda.yml").write_text(MLFLOW_CONDA)
    name = _name("mlflow")
    job = ip.run_cell_magic("job", f"{name} --env conda.yml --output-name model --experiment e2e", TRAIN)
    assert job.status == "Completed", job.error
    # The script's unmodified MLflow calls reached the workspace, in the job's run (its name).
    metrics = ip.run_line_magic("job", f"metrics {name}")
    assert metrics.metrics["loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert metrics.params == {"alpha": "0.5"} and 'alt="loss"' in metrics.html()
    logs = ip.run_line_magic("job", f"logs {name}")
    assert f"trained in run {name}" in logs.text()
    got = ip.run_line_magic("job", f"download {name} --output-name model --to out")
    assert (tmp_path / "out" / name / "model" / "weights.txt").read_text() == "w=1"
    assert got.files["model"] == [Path("out") / name / "model" / "weights.txt"]
    model = ip.run_line_magic("job", f"register-model {name} --output-name model --model-name {name}-model")
    assert model.reference == f"azureml:{name}-model:1"
    stored = client.get(client.paths.asset_version("models", f"{name}-model", "1"))["properties"]
    assert stored["modelUri"] == f"azureml://jobs/{name}/outputs/model"
    # The workspace resolves the model to the job's output files (here: as another job's input).
    reader = spec_from_dict(
        {
            "type": "command",
            "command": "cat ${{inputs.model}}/weights.txt",
            "environment": {"conda_file": str(tmp_path / "conda.yml"), "image": "python:3.11"},
            "inputs": {"model": {"type": "custom_model", "path": model.reference}},
        },
        kind="commandJob",
    )
    second = wait_for_job(client, create_job(client, reader).name, timeout=300)
    assert second.status == "Completed" and "w=1" in get_job_logs(client, second.name).text()


def test_a_failing_job_fails_the_cell_with_its_exit_code_and_log_tail(
    ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conda.yml").write_text("name: bare\ndependencies:\n  - python=3.11\n")
    name = _name("fails")
    with pytest.raises(JobFailedError, match="exited with code 3") as failed:
        ip.run_cell_magic("job", f"{name} --env conda.yml", "print('about to fail')\nraise SystemExit(3)\n")
    assert "about to fail" in str(failed.value) and f"%job logs {name}" in str(failed.value)
    assert failed.value.job.status == "Failed" and failed.value.job.ended_at
