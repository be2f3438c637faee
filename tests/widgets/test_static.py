"""Static mode: no widget, printed progress, ONE display updated in place, blocking until done
(``--no-wait`` included), in an IPython shell and in a notebook executed by papermill."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from support.clients import factory
from support.displays import WIDGET_MIME, capture_displays
from support.notebooks import notebook
from support.samples import SampleTree
from support.waiting import wait_until

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import OperationProgress, RestClient
from jupyter_mlep.specs import load_deployment
from jupyter_mlep.workspace import WorkspaceInfo

pytestmark = pytest.mark.usefixtures("use_workspace")


def test_static_deploy_updates_one_display_and_blocks(
    mode_ip: Callable[[str], Any], tree: SampleTree
) -> None:
    ip = mode_ip("static")
    with capture_displays() as shown:
        result = ip.run_line_magic("endpoint", f"deploy -f {tree.blue} --no-wait --all-traffic")
    assert result.deployment.provisioning_state == "Succeeded"  # --no-wait waited
    assert result.traffic == {"blue": 100}
    outputs = shown.outputs
    assert all(WIDGET_MIME not in o.data for o in outputs)
    ids = {o.transient["display_id"] for o in outputs}
    assert len(ids) == 1  # one display ...
    assert not outputs[0].update and all(o.update for o in outputs[1:]) and len(outputs) > 3  # ... updated
    final = outputs[-1].data
    assert {"text/plain", "text/html", STATUS_MIME} == set(final)
    assert final[STATUS_MIME]["state"] == "Succeeded" and final[STATUS_MIME]["traffic"] == 100
    assert final["text/plain"].startswith(f"Deployment blue of {tree.endpoint}: Succeeded, traffic 100%")
    assert "Deploying blue to" in shown.stdout and "blue: Succeeded" in shown.stdout  # printed progress


def test_papermill_run_has_no_widgets_and_one_final_status(
    tmp_path: Path, tree: SampleTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MLEP_WIDGETS", "JPY_SESSION_NAME", "VSCODE_PID", "VSCODE_CWD", "VSCODE_IPC_HOOK_CLI"):
        monkeypatch.delenv(name, raising=False)  # "auto" must find static by itself
    name = tree.endpoint
    source = notebook(
        tmp_path / "static.ipynb",
        "%load_ext jupyter_mlep",
        "deployment_yml = 'x'",
        "%endpoint deploy -f $deployment_yml --no-wait --all-traffic",
        f"%endpoint show {name}",
        f"%endpoint delete {name}",
    )
    output = tmp_path / f"static-out-{uuid.uuid4().hex[:4]}.ipynb"
    papermill.execute_notebook(
        str(source),
        str(output),
        parameters={"deployment_yml": str(tree.blue)},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    cells = nbformat.read(output, as_version=4).cells
    everything = [o for cell in cells for o in cell.get("outputs", [])]
    assert not [o for o in everything if WIDGET_MIME in o.get("data", {})]
    deploy = cells[3].outputs  # (papermill inserted the injected-parameters cell)
    assert "--no-wait" in cells[3].source
    displays = [o for o in deploy if o.output_type == "display_data"]
    assert len(displays) == 1, deploy  # the progress display, updated in place
    status = displays[0].data[STATUS_MIME]
    assert status["kind"] == "deployment" and status["state"] == "Succeeded" and status["traffic"] == 100
    assert {"text/plain", "text/html", STATUS_MIME} == set(displays[0].data)
    assert displays[0].data["text/plain"].startswith(f"Deployment blue of {name}: Succeeded")
    assert all(p["state"] in ("done", "skipped") for p in status["phases"].values())
    printed = "".join(o.get("text", "") for o in deploy if o.output_type == "stream")
    assert "Deploying blue to" in printed
    results = [o for o in deploy if o.output_type == "execute_result"]
    assert [r.data[STATUS_MIME]["kind"] for r in results] == ["deploy"]
    shown = [o for o in cells[4].outputs if o.output_type == "execute_result"]
    assert shown and shown[0].data[STATUS_MIME]["kind"] == "endpoint"


def test_ctrl_c_while_deploying_with_traffic_says_the_traffic_was_not_applied(
    workspace: WorkspaceInfo, tree: SampleTree, client: RestClient, mode_ip: Callable[[str], Any]
) -> None:
    from jupyter_mlep.widgets import deploy_with_status

    mode_ip("static")  # a shell to display in

    def interrupt(update: OperationProgress) -> None:
        raise KeyboardInterrupt  # what Ctrl-C does to the waiting cell

    with capture_displays() as shown, pytest.raises(errors.OperationInterruptedError) as caught:
        deploy_with_status(
            "static",
            factory(workspace),
            load_deployment(tree.blue),
            traffic=100,
            wait=True,
            check_script=True,
            say=print,
            progress=interrupt,
        )
    hint = f"%endpoint traffic {tree.endpoint} blue=100"
    assert hint in str(caught.value)
    final = shown.outputs[-1].data[STATUS_MIME]
    assert "The traffic was not applied" in final["error"] and hint in final["error"]
    assert final["phases"]["health"]["state"] == "interrupted" and final["state"] != "Failed"
    wait_until(
        lambda: ops.get_deployment(client, tree.endpoint, "blue").provisioning_state == "Succeeded", 300
    )
    assert not ops.get_traffic(client, tree.endpoint).traffic.get("blue")
