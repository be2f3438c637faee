"""``%endpoint`` in a real InteractiveShell against the local workspace: the notebook flow
"deploy blue → invoke → deploy green → 90/10 → logs → keys → delete", and the errors."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.samples import EXPECTED_MODEL_1, SCORE_BROKEN, SampleTree, close_to

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient

pytestmark = pytest.mark.usefixtures("use_workspace")


def line(ip: Any, text: str) -> Any:
    """Run ``%endpoint text`` and return its result (its exception propagates)."""
    return ip.run_line_magic("endpoint", text)


def test_notebook_flow(
    ip: Any, tmp_path: Path, azureml_examples: Path, client: RestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"nb-{uuid.uuid4().hex[:6]}")
    name = tree.endpoint
    created = line(ip, f"create -f {tree.endpoint_yml}")
    assert created.endpoint.name == name and created.endpoint.auth_mode == "key"
    try:
        started = time.perf_counter()
        blue = line(ip, f"deploy -f {tree.blue} --all-traffic")
        answer = line(ip, f"invoke {name} --request-file {tree.request}")
        first_score = time.perf_counter() - started
        assert blue.traffic == {"blue": 100} and close_to(answer, EXPECTED_MODEL_1)
        with capsys.disabled():
            print(f"\nblue (YAML): deploy to first score {first_score:.2f} s, {blue.requests} requests")

        online = azureml_examples / "cli" / "endpoints" / "online"
        ip.user_ns["green_model"] = str(online / "model-2" / "model")
        started = time.perf_counter()
        green = line(
            ip,
            f"deploy {name} green --model $green_model --code {tree.sample.parents[1] / 'model-2' / 'onlinescoring'}"
            f" --scoring-script score.py --env {online / 'model-1' / 'environment' / 'conda.yaml'}"
            " --env-var GREETING=hi",
        )
        ip.user_ns["payload"] = tree.payload()
        assert line(ip, f"invoke {name} --deployment green --data $payload") == [0.5, 0.5]
        timing = time.perf_counter() - started
        assert green.deployment.provisioning_state == "Succeeded" and green.traffic is None
        with capsys.disabled():
            print(f"green (flags): deploy to first score {timing:.2f} s, {green.requests} requests")
        assert "Deploying green" in capsys.readouterr().out

        split = line(ip, f"traffic {name} blue=90 green=10")
        assert split.traffic == {"blue": 90, "green": 10}
        assert line(ip, f"traffic {name}").traffic == {"blue": 90, "green": 10}
        r = ip.run_cell_magic("endpoint", f"invoke {name} --full", json.dumps(tree.payload()))
        assert r.deployment in ("blue", "green") and r.status == 200
        result = ip.run_cell(f"r = %endpoint invoke {name} --deployment blue --request-file {tree.request}")
        assert result.success and close_to(ip.user_ns["r"], EXPECTED_MODEL_1)

        logs = line(ip, f"logs {name} blue --lines 20")
        assert "Init complete" in repr(logs)
        keys = line(ip, f"keys {name}")
        whole = ops.get_keys(client, name)
        assert whole.primary_key not in repr(keys) and whole.primary_key not in keys._repr_html_()
        assert "…" in repr(keys)
        regenerated = line(ip, f"keys {name} --regenerate secondary")
        assert ops.get_keys(client, name).secondary_key != whole.secondary_key
        assert "secondary key regenerated" in repr(regenerated)

        line(ip, f"traffic {name} blue=100 green=0")
        updated = line(ip, f"update {name} --mirror green=10 --tag stage=test")
        assert updated.endpoint.mirror_traffic == {"green": 10} and updated.endpoint.tags == {"stage": "test"}
        assert line(ip, f"invoke {name} --full --request-file {tree.request}").deployment == "blue"
        line(ip, f"traffic {name} --mirror")
        shown = line(ip, f"show {name}")
        assert {d.name for d in shown.deployments} == {"blue", "green"} and "<table>" in shown._repr_html_()
        assert name in repr(line(ip, "list"))
        scaled = line(ip, f"scale {name} green --instance-count 2")
        assert scaled.deployments[0].instance_count == 2
        assert line(ip, f"invoke {name} --deployment green --data $payload") == [0.5, 0.5]
        line(ip, f"delete {name} --deployment green")
        assert [d.name for d in ops.list_deployments(client, name)] == ["blue"]
    finally:
        line(ip, f"delete {name}")
    assert client.find(client.paths.endpoint(name)) is None


@pytest.fixture
def empty_endpoint(client: RestClient) -> Any:
    name = f"errs-{uuid.uuid4().hex[:6]}"
    ops.create_endpoint(client, name)
    try:
        yield name
    finally:
        ops.delete_endpoint(client, name)


def test_unknown_names_say_did_you_mean(ip: Any, empty_endpoint: str) -> None:
    with pytest.raises(errors.NotFoundError, match="Did you mean"):
        line(ip, f"show {empty_endpoint}x")
    with pytest.raises(errors.NotFoundError, match=f"No online endpoint named '{empty_endpoint}x'"):
        line(ip, f"invoke {empty_endpoint}x --data '{{}}'")
    with pytest.raises(errors.NotFoundError, match="deployment"):
        line(ip, f"logs {empty_endpoint} blue")


def test_invalid_name_and_traffic(ip: Any, empty_endpoint: str) -> None:
    with pytest.raises(errors.SpecValidationError, match="must start with a letter"):
        line(ip, "create 1-bad")
    with pytest.raises(errors.SpecValidationError, match="sum to 100"):
        line(ip, f"traffic {empty_endpoint} blue=90 green=20")
    with pytest.raises(errors.UsageError, match="DEPLOYMENT=PERCENT"):
        line(ip, f"traffic {empty_endpoint} blue")
    with pytest.raises(errors.UsageError, match="exactly one of"):
        line(ip, f"invoke {empty_endpoint}")


def _flags(tree: SampleTree, azureml_examples: Path, model: str) -> str:
    conda = azureml_examples / "cli/endpoints/online/model-1/environment/conda.yaml"
    code = tree.sample.parents[1] / "model-1" / "onlinescoring"
    return f"--model {model} --code {code} --scoring-script score.py --env {conda}"


def test_bad_deployments_fail_before_any_upload(
    ip: Any, tmp_path: Path, azureml_examples: Path, client: RestClient, model_1: Path
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"bad-{uuid.uuid4().hex[:6]}")
    before = len(list(client.list(client.paths.assets("codes"))))
    with pytest.raises(errors.SpecError, match=r"model path .*nowhere.* does not exist"):
        line(ip, f"deploy {tree.endpoint} blue " + _flags(tree, azureml_examples, str(tmp_path / "nowhere")))
    script = tree.sample.parents[1] / "model-1" / "onlinescoring" / "score.py"
    script.write_text("def run(raw_data):\n    return 1\n")
    with pytest.raises(errors.ScoreScriptError, match="init"):
        line(ip, f"deploy {tree.endpoint} blue " + _flags(tree, azureml_examples, str(model_1 / "model")))
    assert client.find(client.paths.endpoint(tree.endpoint)) is None
    assert len(list(client.list(client.paths.assets("codes")))) == before


def test_local_flag_targets_the_workspace_whatever_the_target(ip: Any, empty_endpoint: str) -> None:
    ip.run_line_magic("mlep", "use azure --subscription s --resource-group rg --workspace ws")
    listed = line(ip, "list --local")
    assert empty_endpoint in [e.name for e in listed.endpoints] and listed.target == "local"


def test_help_lists_every_verb(ip: Any) -> None:
    doc = ip.find_line_magic("endpoint").__doc__
    for verb in (
        "create",
        "deploy",
        "invoke",
        "logs",
        "traffic",
        "show",
        "list",
        "delete",
        "keys",
        "update",
        "scale",
    ):
        assert f"%endpoint {verb}" in doc
    assert line(ip, "deploy -h") is None


def test_failed_deployment_raises_with_the_log_tail(
    ip: Any, tmp_path: Path, azureml_examples: Path, client: RestClient, model_1: Path
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"fail-{uuid.uuid4().hex[:6]}")
    script = tree.sample.parents[1] / "model-1" / "onlinescoring" / "score.py"
    script.write_text(SCORE_BROKEN)
    try:
        with pytest.raises(errors.OperationFailedError) as caught:
            line(ip, f"deploy {tree.endpoint} blue " + _flags(tree, azureml_examples, str(model_1 / "model")))
        assert "init exploded on purpose" in str(caught.value)
        assert "Last lines of the deployment log" in str(caught.value)
    finally:
        ops.delete_endpoint(client, tree.endpoint)
