"""Debug deployments: a debugpy client attached to a deployment's server stops a request routed
through the endpoint at a breakpoint in score.py; the azure target refuses --debug."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.dap import DapClient

from jupyter_mlep import UsageError
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient, StaticTokenCredential
from jupyter_mlep.specs import spec_from_dict

CONDA = "name: dbg\ndependencies:\n  - python=3.11\n  - pip\n"
SCORE = """\
import json


def init():
    global offset
    offset = 10


def run(raw_data):
    data = json.loads(raw_data)["data"]
    total = sum(data) + offset
    return {"total": total}
"""
BREAK_LINE = 12  # ``total = sum(data) + offset``
INIT_LINE = 6  # ``offset = 10``


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spec(folder: Path, endpoint: str) -> Any:
    (folder / "src").mkdir()
    (folder / "src" / "score.py").write_text(SCORE)
    (folder / "conda.yml").write_text(CONDA)
    (folder / "model").mkdir()
    (folder / "model" / "offset.txt").write_text("10")
    return spec_from_dict(
        {
            "name": "dbg",
            "endpoint_name": endpoint,
            "model": {"path": str(folder / "model")},
            "code_configuration": {"code": str(folder / "src"), "scoring_script": "score.py"},
            "environment": {"image": "mlep-base:bookworm", "conda_file": str(folder / "conda.yml")},
            "instance_type": "Standard_DS3_v2",
            "instance_count": 1,
        },
        kind="managedOnlineDeployment",
    )


def _variables(dap: DapClient, frame_id: int) -> dict[str, str]:
    names: dict[str, str] = {}
    for scope in dap.request("scopes", frameId=frame_id)["scopes"]:
        for var in dap.request("variables", variablesReference=scope["variablesReference"])["variables"]:
            names.setdefault(var["name"], var["value"])
    return names


@pytest.mark.parametrize("runtime", ["process", "docker"])
def test_breakpoint_in_score_py_stops_a_routed_request(
    tmp_path: Path, client: RestClient, runtime: str
) -> None:
    endpoint = f"dbg-{uuid.uuid4().hex[:6]}"
    port = _free_port()
    spec = _spec(tmp_path, endpoint).model_copy(update={"properties": {"mlep.runtime": runtime}})
    spec = ops.with_debugger(spec, port)
    try:
        result = ops.deploy(client, spec, traffic=100, timeout=600)
        assert result.debug is not None
        launch = result.debug.launch_configuration()
        assert launch["connect"] == {"host": "127.0.0.1", "port": port}
        mapping = launch["pathMappings"][0]
        assert mapping["localRoot"] == str((tmp_path / "src").resolve())
        if runtime == "docker":  # the code folder as mounted in the container
            assert mapping["remoteRoot"].startswith("/var/azureml-app/")
        else:  # the code the server runs, on this machine
            assert Path(mapping["remoteRoot"], "score.py").read_text() == SCORE
        text = result.text()
        assert f"127.0.0.1:{port}" in text and "timeout is lifted" in text and '"pathMappings"' in text

        dap = DapClient("127.0.0.1", port)
        try:
            dap.request("initialize", adapterID="debugpy", clientID="mlep-test", pathFormat="path")
            attach = dap.send("attach", justMyCode=True, pathMappings=launch["pathMappings"])
            dap.event("initialized")
            script = str((tmp_path / "src" / "score.py").resolve())
            placed = dap.request(
                "setBreakpoints", source={"path": script}, breakpoints=[{"line": BREAK_LINE}]
            )
            assert placed["breakpoints"][0]["verified"], placed
            dap.request("configurationDone")
            dap.response(attach)

            answers: list[Any] = []
            caller = threading.Thread(
                target=lambda: answers.append(ops.invoke(client, endpoint, {"data": [1, 2, 39]}, timeout=120))
            )
            caller.start()
            stopped = dap.event("stopped", timeout=60)
            assert stopped["reason"] == "breakpoint"
            frames = dap.request("stackTrace", threadId=stopped["threadId"])["stackFrames"]
            assert frames[0]["line"] == BREAK_LINE and frames[0]["source"]["path"] == script
            seen = _variables(dap, frames[0]["id"])
            assert seen["data"] == "[1, 2, 39]" and "raw_data" in seen
            time.sleep(6.0)  # longer than the default 5 s request timeout: lifted while debugging
            assert not answers  # held at the breakpoint
            dap.request("continue", threadId=stopped["threadId"])
            caller.join(60)
            assert answers and answers[0].body == {"total": 52}
        finally:
            dap.close()
    finally:
        ops.delete_endpoint(client, endpoint, timeout=120)


def test_debug_wait_holds_init_until_attached(tmp_path: Path, client: RestClient) -> None:
    endpoint = f"dbgw-{uuid.uuid4().hex[:6]}"
    port = _free_port()
    spec = ops.with_debugger(_spec(tmp_path, endpoint), port, wait=True)
    deployed: list[Any] = []
    failed: list[BaseException] = []

    def deploy() -> None:
        try:
            deployed.append(ops.deploy(client, spec, traffic=100, timeout=600))
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=deploy)
    worker.start()
    try:
        dap = DapClient("127.0.0.1", port, timeout=300)  # listening before init() runs
        try:
            dap.request("initialize", adapterID="debugpy", clientID="mlep-test", pathFormat="path")
            attach = dap.send("attach", justMyCode=True)
            dap.event("initialized")
            time.sleep(3.0)
            assert not deployed and not failed  # the server waits for the debugger: not ready yet
            placed = dap.request(
                "setBreakpoints",
                source={"path": _served_script(client, endpoint)},
                breakpoints=[{"line": INIT_LINE}],
            )
            assert placed["breakpoints"][0]["verified"], placed
            dap.request("configurationDone")
            dap.response(attach)
            stopped = dap.event("stopped", timeout=60)
            frame = dap.request("stackTrace", threadId=stopped["threadId"])["stackFrames"][0]
            assert frame["name"] == "init" and frame["line"] == INIT_LINE
            dap.request("continue", threadId=stopped["threadId"])
            worker.join(300)
            assert not failed, failed
            assert deployed and deployed[0].debug is not None and deployed[0].debug.wait
            assert ops.invoke(client, endpoint, {"data": [1]}).body == {"total": 11}
        finally:
            dap.close()
    finally:
        worker.join(300)
        ops.delete_endpoint(client, endpoint, timeout=120)


def _served_script(client: RestClient, endpoint: str) -> str:
    """score.py where the server of the deployment runs it (recorded by the workspace)."""
    body = client.get(client.paths.deployment(endpoint, "dbg"))
    return str(Path(body["properties"]["properties"]["mlep.debug.remoteRoot"], "score.py"))


def test_azure_target_refuses_debug(tmp_path: Path) -> None:
    spec = ops.with_debugger(_spec(tmp_path, "any-endpoint"), 5678, wait=True)
    assert spec.properties == {"mlep.debug": "5678,wait"}
    azure = RestClient(
        "https://127.0.0.1:9",
        StaticTokenCredential("x"),
        workspace_path="/subscriptions/s",
        api_version="2024-04-01",
        target="azure",
    )
    with azure, pytest.raises(UsageError, match="asks for a debugger") as caught:
        ops.deploy(azure, spec, timeout=5)
    assert "local workspace" in (caught.value.hint or "")


def test_debug_needs_one_instance(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "any-endpoint").model_copy(update={"instance_count": 2})
    with pytest.raises(UsageError, match="one instance"):
        ops.with_debugger(spec)


FAILING = """\
import json
import logging


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data)["data"]
    logging.getLogger("azmlinfsrv").info("scoring %d values", len(data))
    return {"mean": sum(data) / (len(data) - 2)}
"""


def test_failed_request_log_entry_by_request_id(
    tmp_path: Path, client: RestClient, use_workspace: Any, ip: Any
) -> None:
    from jupyter_mlep import ServiceError

    endpoint = f"dbgl-{uuid.uuid4().hex[:6]}"
    spec = ops.with_debugger(_spec(tmp_path, endpoint), _free_port())
    (tmp_path / "src" / "score.py").write_text(FAILING)
    try:
        ops.deploy(client, spec, traffic=100, timeout=600)
        good = ops.invoke(client, endpoint, {"data": [1, 2, 3]})
        assert good.body == {"mean": 6.0}
        with pytest.raises(ServiceError) as caught:
            ops.invoke(client, endpoint, {"data": [4, 5]})
        request_id = caught.value.request_id
        assert request_id and f"--request-id {request_id}" in (caught.value.hint or "")

        whole = ops.get_logs(client, endpoint, "dbg", lines=None)
        assert whole.count("scoring 3 values") == 1 and "ZeroDivisionError" in whole
        mine = ops.get_logs(client, endpoint, "dbg", request_id=request_id)
        assert "scoring 2 values" in mine and "scoring 3 values" not in mine
        assert "Traceback (most recent call last)" in mine and "ZeroDivisionError" in mine
        assert "POST /score 500" in mine and "POST /score 200" not in mine

        shown = ip.run_line_magic("endpoint", f"logs {endpoint} dbg --request-id {request_id}")
        assert "ZeroDivisionError" in shown.text() and "scoring 3 values" not in shown.text()
    finally:
        ops.delete_endpoint(client, endpoint, timeout=120)


def test_deploy_debug_flag_on_azure_is_refused_before_anything_is_sent(ip: Any, tmp_path: Path) -> None:
    _spec(tmp_path, "unused")
    ip.run_line_magic("mlep", "use azure --subscription s --resource-group r --workspace w")
    line = (
        f"deploy my-ep blue --model {tmp_path / 'model'} --code {tmp_path / 'src'} --scoring-script score.py "
        f"--env {tmp_path / 'conda.yml'} --debug 6001 --debug-wait"
    )
    with pytest.raises(UsageError, match="asks for a debugger") as caught:
        ip.run_line_magic("endpoint", line)
    assert "where no local debugger" in caught.value.message


def test_malformed_debug_property_is_a_bad_request() -> None:
    from jupyter_mlep.workspace.arm import ArmError
    from jupyter_mlep.workspace.debugging import debug_request

    assert debug_request({"properties": {"mlep.debug": "6001,wait"}}) == (6001, True)
    assert debug_request({"properties": {}}) is None
    for value, capacity in (("80", 1), ("6001,later", 1), ("6001", 2)):
        with pytest.raises(ArmError) as caught:
            debug_request({"properties": {"mlep.debug": value}}, capacity)
        assert caught.value.status == 400
