"""The deployment status widget, shown by ``%endpoint deploy`` / ``show`` in interactive mode, against
the real local workspace (process runtime): phases to Succeeded, a failed deployment with its log
tail and logs button, ``--no-wait`` followed by the poller, closing, poll errors, representations."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from support.clients import factory
from support.displays import WIDGET_MIME, capture_displays
from support.samples import SCORE_BROKEN, SampleTree, write_scoring_script
from support.waiting import wait_until, widget_threads

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.widgets import LogsWidget, StatusWidget
from jupyter_mlep.workspace import WorkspaceInfo

pytestmark = pytest.mark.usefixtures("use_workspace")


@pytest.fixture
def interactive(mode_ip: Callable[[str], Any]) -> Any:
    return mode_ip("interactive")


def the_status_widget(shown: Any) -> StatusWidget:
    found = shown.widgets(StatusWidget)
    assert len(found) == 1, shown.bundles()
    widget: StatusWidget = found[0]
    return widget


def test_deploy_goes_through_the_phases_to_succeeded(interactive: Any, tree: SampleTree) -> None:
    states: list[str] = []
    with capture_displays() as shown:
        result = interactive.run_line_magic("endpoint", f"deploy -f {tree.blue} --all-traffic")
    widget = the_status_widget(shown)
    assert isinstance(result, ops.DeployResult) and result.traffic == {"blue": 100}
    assert widget.state == "Succeeded" and widget.traffic == 100 and not widget.error
    assert [(name, p["state"]) for name, p in widget.phases.items()] == [
        ("endpoint", "done"),
        ("upload", "done"),
        ("environment", "done"),
        ("deployment", "done"),
        ("health", "done"),
        ("traffic", "done"),
    ]
    assert widget.phases["deployment"]["detail"] == "accepted (Creating)"
    assert widget.phases["health"]["detail"] == "Succeeded" and widget.phases["health"]["elapsed"] > 0
    assert "mlep-status" in widget._dom_classes
    assert "blue" in widget.card.value and "Succeeded" in widget.card.value
    assert widget.poller is None  # the cell waited: no thread was needed
    # displayed at the start, then redrawn once final: a saved notebook's fallbacks show the end
    first, last = shown.outputs[0], shown.outputs[-1]
    assert not first.update and last.update and first.transient == last.transient
    assert last.data[STATUS_MIME]["state"] == "Succeeded" and "Succeeded" in last.data["text/plain"]

    # a redeploy seen through trait changes: the state moves through Updating to Succeeded
    with capture_displays() as again:
        interactive.run_cell(f"%endpoint deploy -f {tree.blue}")
    second = the_status_widget(again)
    assert second.state == "Succeeded"
    # the widget already shows the result: the cell does not draw it a second time ...
    assert "Deployment blue of" not in again.stdout.replace(repr(second), "")
    # ... but a later cell does, and `r = …` gets the DeployResult
    interactive.run_cell(f"r = %endpoint deploy -f {tree.blue}")
    with capture_displays() as later:
        interactive.run_cell("r")
    assert isinstance(interactive.user_ns["r"], ops.DeployResult)
    assert "Deployment blue of" in later.stdout
    second.observe(lambda change: states.append(change["new"]), "state")
    second.apply_step(ops.DeployStep("health", "running", "Updating"))
    assert states == ["Updating"]


def test_representations_have_text_html_and_status(interactive: Any, tree: SampleTree) -> None:
    with capture_displays() as shown:
        interactive.run_line_magic("endpoint", f"deploy -f {tree.blue} --all-traffic")
    widget = the_status_widget(shown)
    bundle = widget._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", STATUS_MIME, WIDGET_MIME}
    text = bundle["text/plain"]
    assert "\n" not in text and tree.endpoint in text and "blue" in text
    assert "Succeeded" in text and "traffic 100%" in text
    assert "<table" in bundle["text/html"] and "Succeeded" in bundle["text/html"]
    status = bundle[STATUS_MIME]
    assert status["kind"] == "deployment" and status["state"] == "Succeeded"
    assert status["endpoint"] == tree.endpoint and status["deployment"] == "blue" and status["traffic"] == 100
    assert status["phases"]["health"]["state"] == "done"
    assert repr(widget) == text
    # what the front end got when the cell displayed it: the same four representations
    assert {WIDGET_MIME, STATUS_MIME, "text/html", "text/plain"} <= set(shown.bundles()[0])


def test_failed_deployment_shows_failed_with_the_log_tail_and_a_logs_button(
    interactive: Any, tree: SampleTree
) -> None:
    write_scoring_script(tree, SCORE_BROKEN)
    with capture_displays() as shown, pytest.raises(errors.OperationFailedError) as caught:
        interactive.run_line_magic("endpoint", f"deploy -f {tree.blue}")
    assert "init exploded on purpose" in str(caught.value)
    widget = the_status_widget(shown)
    assert widget.state == "Failed"
    assert widget.phases["health"]["state"] == "failed" and widget.error.startswith("OperationFailedError")
    assert "init exploded on purpose" in widget.model.log_tail
    assert "init exploded on purpose" in widget.card.value and "Failed" in widget.card.value
    status = widget._repr_mimebundle_()[STATUS_MIME]
    assert status["state"] == "Failed" and "init exploded on purpose" in status["log_tail"]

    widget.logs_button.click()
    logs = widget.logs
    assert isinstance(logs, LogsWidget) and widget.logs_box.children == (logs,)
    assert "mlep-logs" in logs._dom_classes
    wait_until(lambda: "init exploded on purpose" in logs.text)
    widget.logs_button.click()  # closes them again
    assert widget.logs is None and not logs.poller.running and widget.logs_box.children == ()
    widget.close()

    # later, %endpoint show draws the failed deployment with its log tail (one poll, then done)
    with capture_displays() as later:
        interactive.run_line_magic("endpoint", f"show {tree.endpoint} --deployment blue")
    shown_again = the_status_widget(later)
    wait_until(lambda: "init exploded on purpose" in shown_again.card.value)
    assert shown_again.state == "Failed" and shown_again.poller.reason == "done"
    shown_again.close()


def test_no_wait_returns_at_once_and_the_poller_brings_it_to_succeeded(
    interactive: Any, tree: SampleTree, client: RestClient
) -> None:
    interactive.run_line_magic("endpoint", f"deploy -f {tree.blue}")  # endpoint, assets, environment ready
    started = time.perf_counter()
    with capture_displays() as shown:
        result = interactive.run_line_magic("endpoint", f"deploy -f {tree.green} --no-wait")
    returned = time.perf_counter() - started
    widget = the_status_widget(shown)
    assert result.deployment.provisioning_state == "Creating"
    assert widget.poller is not None and widget.state in ("Creating", "Succeeded")
    seen: list[str] = []
    widget.observe(lambda change: seen.append(change["new"]), "state")
    wait_until(lambda: widget.state == "Succeeded", timeout=60)
    finished = time.perf_counter() - started
    wait_until(lambda: not widget.poller.running, timeout=5)
    assert widget.poller.reason == "done" and not widget_threads("mlep-status")
    assert widget.traffic == 0 and widget.phases["health"]["state"] == "done"
    assert ops.get_deployment(client, tree.endpoint, "green").provisioning_state == "Succeeded"
    assert returned < finished
    print(f"\n--no-wait returned in {returned:.2f} s; Succeeded seen after {finished:.2f} s ({seen})")


def test_closing_the_widget_stops_its_poller(interactive: Any, tree: SampleTree, client: RestClient) -> None:
    interactive.run_line_magic("endpoint", f"deploy -f {tree.blue}")
    with capture_displays() as shown:
        interactive.run_line_magic("endpoint", f"deploy -f {tree.green} --no-wait")
    widget = the_status_widget(shown)
    assert widget.poller is not None
    widget.close()
    assert not widget.poller.running and widget.poller.reason in ("stopped", "done")
    assert not widget_threads("mlep-status")
    wait_until(lambda: ops.get_deployment(client, tree.endpoint, "green").provisioning_state == "Succeeded")


def test_poll_errors_show_in_the_widget_and_stop_it_after_three(workspace: WorkspaceInfo) -> None:
    widget = StatusWidget(factory(workspace), "no-such-endpoint", "blue", interval=0.05)
    cards: list[str] = []
    widget.card.observe(lambda change: cards.append(change["new"]), "value")
    widget.watch()
    wait_until(lambda: not widget.poller.running, timeout=10)
    assert widget.poller.reason == "errors" and widget.poller.errors == 3
    assert widget.error.startswith("Stopped watching after 3 failed polls: NotFoundError")
    assert "Stopped watching" in widget.card.value
    assert any("Poll failed (2/3): No online endpoint named" in card for card in cards)
    widget.close()


def test_show_draws_a_status_widget_per_deployment(interactive: Any, tree: SampleTree) -> None:
    interactive.run_line_magic("endpoint", f"deploy -f {tree.blue} --all-traffic")
    with capture_displays() as shown:
        details = interactive.run_line_magic("endpoint", f"show {tree.endpoint}")
    assert isinstance(details, ops.EndpointDetails)
    assert len(shown.bundles()) == 1  # one status widget; the endpoint's table is the returned result
    assert STATUS_MIME in shown.bundles()[0] and WIDGET_MIME in shown.bundles()[0]
    widget = the_status_widget(shown)
    assert widget.state == "Succeeded" and widget.traffic == 100 and widget.poller is None
    assert "blue" in repr(widget) and "1 × Standard_DS3_v2" in repr(widget)
    widget.close()


SLEEPY_SCRIPT = """\
import time


def init():
    time.sleep(3)


def run(raw_data):
    return 1
"""


def test_a_wait_that_times_out_keeps_watching_in_the_background(
    interactive: Any, tree: SampleTree, client: RestClient, workspace: WorkspaceInfo
) -> None:
    from support.clients import make_client

    from jupyter_mlep.specs import load_deployment
    from jupyter_mlep.widgets._views import deploy_with_status

    ops.create_endpoint(client, tree.endpoint)
    write_scoring_script(tree, SLEEPY_SCRIPT)

    def impatient() -> RestClient:
        rest = make_client(workspace)
        rest.operation_timeout = 1.0
        return rest

    with capture_displays() as shown, pytest.raises(errors.OperationTimeoutError):
        deploy_with_status(
            "interactive",
            impatient,
            load_deployment(tree.blue),
            traffic=None,
            wait=True,
            check_script=True,
            say=print,
        )
    widget = the_status_widget(shown)
    assert widget.state in ("Creating", "Succeeded")  # not Failed: only the wait ended
    assert widget.phases["health"]["state"] == "interrupted"
    assert widget.error.startswith("OperationTimeoutError")
    wait_until(lambda: widget.state == "Succeeded", timeout=60)
    wait_until(lambda: not widget.poller.running, timeout=5)
    assert widget.poller.reason == "done" and widget.error == ""
    assert widget.phases["health"]["state"] == "done"
    widget.close()


def test_the_deploy_cell_shows_the_build_as_the_environment_phase_and_its_warnings(
    mode_ip: Callable[[str], Any], tree: SampleTree
) -> None:
    ip = mode_ip("interactive")
    with capture_displays() as shown:
        result = ip.run_line_magic("endpoint", f"deploy -f {tree.blue}")
    widget = the_status_widget(shown)
    assert widget.state == "Succeeded" and widget.warnings == result.warnings
    assert any("asks for Python 3.12" in w for w in widget.warnings)
    environment = widget.phases["environment"]
    assert environment["state"] == "done"
    assert environment["detail"].startswith(("reusing", "ready in"))  # the build, not the registration
    assert 'class="mlep-warning"' in widget.card.value and "asks for Python 3.12" in widget.card.value
    assert widget._repr_mimebundle_()[STATUS_MIME]["warnings"] == result.warnings
    # without a live front end: the one display updated in place shows them too
    ip = mode_ip("static")
    with capture_displays() as static:
        ip.run_line_magic("endpoint", f"deploy -f {tree.blue}")
    final = static.outputs[-1].data
    assert final[STATUS_MIME]["warnings"] == result.warnings and "mlep-warning" in final["text/html"]
    assert "Warning: the conda file asks for Python 3.12" in static.stdout
