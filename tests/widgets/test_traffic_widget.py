"""The traffic sliders against a real local workspace: an endpoint with blue (100%) and green (0%)
deployed as local processes. Sliders are moved programmatically, Apply is clicked, and the
endpoint's split is read back over REST; update requests are counted on the wire (httpx hooks)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.clients import deployed_sample, make_client
from support.samples import SampleTree
from support.waiting import unique

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.widgets.traffic import TrafficWidget
from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="module")
def sample(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[SampleTree]:
    """blue (model-1) with all the traffic, green (model-2) with none."""
    with deployed_sample(
        workspace, tmp_path_factory.mktemp("sample"), azureml_examples, unique("tw")
    ) as deployed:
        yield deployed.tree


@pytest.fixture
def endpoint(sample: SampleTree, client: RestClient) -> str:
    """The sample endpoint, back at blue=100 green=0 without mirror traffic."""
    ops.update_traffic(client, sample.endpoint, {"blue": 100, "green": 0}, mirror_traffic={})
    return sample.endpoint


class Wire:
    """A client factory whose clients record every request they send (httpx event hooks)."""

    def __init__(self, workspace: WorkspaceInfo) -> None:
        self.workspace = workspace
        self.sent: list[tuple[str, str]] = []
        self.clients: list[RestClient] = []

    def __call__(self) -> RestClient:
        rest = make_client(self.workspace)
        rest.http.event_hooks = {"request": [self._record], "response": []}
        self.clients.append(rest)
        return rest

    def _record(self, request: httpx.Request) -> None:
        self.sent.append((request.method, request.url.path))

    def updates(self, endpoint: str) -> list[tuple[str, str]]:
        """Requests that change the endpoint resource (PUT or PATCH of .../onlineEndpoints/NAME)."""
        return [
            (method, path)
            for method, path in self.sent
            if method in ("PUT", "PATCH") and path.rstrip("/").endswith(f"/onlineEndpoints/{endpoint}")
        ]


@pytest.fixture
def wire(workspace: WorkspaceInfo) -> Wire:
    return Wire(workspace)


@pytest.fixture
def widget(wire: Wire, endpoint: str) -> Iterator[TrafficWidget]:
    made = TrafficWidget(wire, endpoint, apply_timeout=30)
    try:
        yield made
    finally:
        made.close()


def mlep_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mlep-traffic")]


def test_dom_contract_and_initial_state(widget: TrafficWidget, endpoint: str) -> None:
    assert "mlep-traffic" in widget._dom_classes
    assert list(widget.sliders) == ["blue", "green"]
    for name, slider in widget.sliders.items():
        assert slider.description == name and f"mlep-slider-{name}" in slider._dom_classes
        assert (slider.min, slider.max) == (0, 100)
    assert widget.sliders["blue"].value == 100 and widget.sliders["green"].value == 0
    assert "mlep-mirror" in widget.mirror_slider._dom_classes and widget.mirror_slider.max == 50
    assert widget.apply_button.description == "Apply"
    assert "mlep-traffic-status" in widget.status_line._dom_classes
    assert widget.status_line.value == "Traffic: blue=100%, green=0%"
    assert widget.apply_button.disabled, "nothing to apply yet"
    assert "move one" in widget.reason.value


def test_apply_sends_one_update_and_shows_the_reported_split(
    widget: TrafficWidget, wire: Wire, client: RestClient, endpoint: str
) -> None:
    before = len(wire.sent)
    widget.sliders["green"].value = 30
    assert widget.split() == {"blue": 70, "green": 30}, "the others rebalance"
    widget.sliders["blue"].value = 80
    assert widget.split() == {"blue": 80, "green": 20}
    widget.sliders["green"].value = 30
    assert len(wire.sent) == before, "moving sliders sends nothing"
    assert not widget.apply_button.disabled and "blue=70%, green=30%" in widget.reason.value

    widget.apply_button.click()
    assert widget.apply_button.disabled and widget.sliders["blue"].disabled, "controls wait for the update"
    widget.wait(60)
    assert widget.error is None, widget.error
    assert [method for method, _path in wire.updates(endpoint)] == ["PUT"], wire.sent
    assert widget.status_line.value == "Traffic: blue=70%, green=30%"
    assert ops.get_traffic(client, endpoint).traffic == {"blue": 70, "green": 30}
    assert widget.apply_button.disabled and not widget.sliders["blue"].disabled
    assert "Applied" in widget.message.value

    bundle = widget._repr_mimebundle_()
    assert bundle["text/plain"] == f"Traffic of {endpoint}: blue=70%, green=30%"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "blue" in bundle["text/html"] and "70%" in bundle["text/html"] and "<" in bundle["text/html"]
    status = bundle[STATUS_MIME]
    assert status["kind"] == "traffic" and status["endpoint"] == endpoint
    assert status["traffic"] == {"blue": 70, "green": 30} and status["deployments"] == ["blue", "green"]
    assert not mlep_threads(), "the apply thread ends with its work"


def test_invalid_states_cannot_be_applied(
    widget: TrafficWidget, wire: Wire, client: RestClient, endpoint: str
) -> None:
    widget.mirror_target.value = "blue"
    widget.mirror_slider.value = 10
    assert widget.apply_button.disabled and "live traffic" in widget.reason.value
    widget.apply_button.click()  # a click on a disabled button does nothing
    widget.wait(5)
    assert wire.updates(endpoint) == []

    widget.mirror_target.value = "green"
    assert not widget.apply_button.disabled, widget.reason.value
    widget.sliders["green"].value = 10  # green now takes live traffic: no mirror to it
    assert widget.apply_button.disabled and "green takes 10%" in widget.reason.value
    widget.sliders["green"].value = 0

    widget.locks["blue"].value = True
    assert widget.sliders["blue"].disabled
    widget.sliders["green"].value = 40  # every other deployment is locked: clamped back
    assert widget.split() == {"blue": 100, "green": 0}
    widget.locks["blue"].value = False

    widget.mirror_slider.value = 20
    widget.apply()
    widget.wait(60)
    assert widget.error is None, widget.error
    assert len(wire.updates(endpoint)) == 1
    reported = ops.get_traffic(client, endpoint)
    assert reported.traffic == {"blue": 100, "green": 0} and reported.mirror_traffic == {"green": 20}
    assert widget.mirror_status.value == "Mirror: green=20%"
    assert widget.to_status()["mirror_traffic"] == {"green": 20}
    assert "mirror green=20%" in repr(widget)

    widget.mirror_target.value = ""  # stop mirroring
    assert not widget.apply_button.disabled
    widget.apply()
    widget.wait(60)
    assert ops.get_traffic(client, endpoint).mirror_traffic in ({}, {"green": 0})
    assert widget.mirror_status.value == ""


def test_recent_requests_next_to_sliders(
    widget: TrafficWidget, client: RestClient, sample: SampleTree
) -> None:
    assert widget.requests is not None, "the deployments' metrics are read"
    before = widget.requests.get("green")
    for _ in range(3):
        ops.invoke(client, sample.endpoint, sample.payload(), deployment="green")
    widget.refresh_button.click()
    widget.wait(30)
    after = widget.requests.get("green")
    assert after is not None and after.requests == (before.requests if before else 0) + 3
    assert f"{after.requests} req · {after.errors} err" in widget.counts["green"].value
    assert widget.to_status()["requests"]["green"]["requests"] == after.requests
    assert "Requests (last 15 min)" in widget.to_html()


def test_errors_show_in_the_widget(wire: Wire, client: RestClient) -> None:
    name = f"gone-{uuid.uuid4().hex[:6]}"
    ops.create_endpoint(client, name)
    made = TrafficWidget(wire, name)
    try:
        assert made.sliders == {} and made.status_line.value == "Traffic: none"
        ops.delete_endpoint(client, name)
        made.refresh()
        made.wait(30)
        assert made.error and "NotFoundError" in made.message.value
        assert "error:" in repr(made) and made.to_status()["error"]
    finally:
        made.close()
    with pytest.raises(errors.NotFoundError):
        TrafficWidget(wire, name)
    assert all(rest.http.is_closed for rest in wire.clients), "a failed widget closes the client it made"


def test_close_leaves_no_thread_and_closes_its_client(wire: Wire, endpoint: str) -> None:
    made = TrafficWidget(wire, endpoint)
    made.refresh()
    made.close()
    assert not mlep_threads()
    assert made.comm is None and made.sliders["blue"].comm is None
    assert wire.clients[-1].http.is_closed


def test_borrowed_client_stays_open(client: RestClient, endpoint: str) -> None:
    made = TrafficWidget(client, endpoint)
    made.close()
    assert not client.http.is_closed
    assert ops.get_traffic(client, endpoint).endpoint == endpoint


def test_magic_shows_sliders_interactively_and_text_in_static_mode(
    ip: Any, endpoint: str, ops_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLEP_HOME", str(ops_home))
    run: Callable[[str], Any] = lambda text: ip.run_line_magic("endpoint", text)  # noqa: E731
    monkeypatch.setenv("MLEP_WIDGETS", "interactive")
    shown = run(f"traffic {endpoint}")
    try:
        assert isinstance(shown, TrafficWidget) and shown.split() == {"blue": 100, "green": 0}
    finally:
        shown.close()
    assert run(f"traffic {endpoint} blue=90 green=10").traffic == {"blue": 90, "green": 10}
    monkeypatch.setenv("MLEP_WIDGETS", "static")
    result = run(f"traffic {endpoint}")
    assert isinstance(result, ops.TrafficResult) and result.traffic == {"blue": 90, "green": 10}


def test_wait_for_traffic_is_bounded(client: RestClient, endpoint: str) -> None:
    assert ops.wait_for_traffic(client, endpoint, {"blue": 100}).traffic == {"blue": 100, "green": 0}
    with pytest.raises(errors.OperationTimeoutError, match="still reports"):
        ops.wait_for_traffic(client, endpoint, {"blue": 50, "green": 50}, timeout=0.3, interval=0.1)
