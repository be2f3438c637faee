"""The endpoint dashboard against a real local workspace: endpoints and deployments listed (with
requests/latency sparklines), refresh picks up a new endpoint, delete needs a confirmation,
auto-refresh starts and stops its poller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.clients import deployed_sample, make_client
from support.waiting import unique, wait_until

from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.widgets.dashboard import EndpointDashboard
from jupyter_mlep.widgets.traffic import TrafficWidget
from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="module")
def endpoint(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[str]:
    """An endpoint with blue (model-1) taking all the traffic."""
    root = tmp_path_factory.mktemp("sample")
    with deployed_sample(workspace, root, azureml_examples, unique("db"), green=False) as deployed:
        yield deployed.tree.endpoint


class Clients:
    """A client factory that remembers what it made (to check the dashboard closes them)."""

    def __init__(self, workspace: WorkspaceInfo) -> None:
        self.workspace = workspace
        self.made: list[RestClient] = []

    def __call__(self) -> RestClient:
        self.made.append(make_client(self.workspace))
        return self.made[-1]


@pytest.fixture
def clients(workspace: WorkspaceInfo) -> Clients:
    return Clients(workspace)


@pytest.fixture
def dashboard(clients: Clients, endpoint: str) -> Iterator[EndpointDashboard]:
    made = EndpointDashboard(clients, interval=0.2)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def spare(client: RestClient) -> Iterator[str]:
    """A second endpoint (no deployments), deleted after the test if it still exists."""
    name = unique("spare")
    yield name
    ops.delete_endpoint(client, name)


def mlep_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("mlep-dashboard", "mlep-traffic"))]


def test_lists_endpoints_with_deployments(dashboard: EndpointDashboard, endpoint: str) -> None:
    assert "mlep-dashboard" in dashboard._dom_classes
    card = dashboard.card(endpoint)
    assert f"mlep-endpoint-{endpoint}" in card._dom_classes
    info = card.info.value
    assert endpoint in info and "blue" in info and "Succeeded" in info and "100%" in info
    assert f"/endpoints/{endpoint}/score" in info, "the scoring URI"
    assert list(card.logs_deployment.options) == ["blue"]
    assert f"{endpoint} [blue=100%]" in repr(dashboard)

    bundle = dashboard._repr_mimebundle_()
    assert bundle["text/plain"] == repr(dashboard) and "\n" not in bundle["text/plain"]
    assert endpoint in bundle["text/html"] and "application/vnd.jupyter.widget-view+json" in bundle
    status = bundle[STATUS_MIME]
    assert status["kind"] == "endpoints" and status["target"] == "local" and not status["auto_refresh"]
    shown = {item["name"]: item for item in status["endpoints"]}
    assert shown[endpoint]["traffic"] == {"blue": 100}
    assert shown[endpoint]["deployments"] == [{"name": "blue", "provisioning_state": "Succeeded"}]


def test_sparklines_show_each_deployments_requests_and_latency(
    dashboard: EndpointDashboard, client: RestClient, endpoint: str
) -> None:
    import httpx

    uri = str(ops.get_endpoint(client, endpoint).scoring_uri)
    key = ops.get_keys(client, endpoint).primary_key
    with httpx.Client(timeout=30) as http:
        for _ in range(5):
            http.post(
                uri,
                json={"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]},
                headers={"Authorization": f"Bearer {key}"},
            )
    dashboard.refresh_now()
    info = dashboard.card(endpoint).info.value
    assert info.count('class="mlep-sparkline"') == 2 and "<polyline" in info
    assert "blue requests/min: " in info and "blue latency ms: " in info
    metrics = dashboard.metrics[endpoint]
    assert metrics is not None
    found = metrics.of("RequestsPerMinute", deployment="blue")
    assert found is not None and found.total() >= 5
    assert "mlep-sparkline" in dashboard.to_html()


def test_refresh_picks_up_a_new_endpoint_and_delete_needs_confirmation(
    dashboard: EndpointDashboard, client: RestClient, spare: str
) -> None:
    ops.create_endpoint(client, spare)
    assert spare not in {item.endpoint.name for item in dashboard.details}
    dashboard.refresh_button.click()
    dashboard.wait(30)
    card = dashboard.card(spare)
    assert "no deployments" in card.info.value and card.logs_button.disabled

    card.delete_button.click()
    assert card.confirming and "cannot be undone" in card.message.value
    card.cancel_button.click()
    assert not card.confirming
    dashboard.wait(5)
    assert client.find(client.paths.endpoint(spare)) is not None, "one click deletes nothing"

    card.delete_button.click()
    card.confirm_button.click()
    dashboard.wait(120)
    assert client.find(client.paths.endpoint(spare)) is None
    assert spare not in {item.endpoint.name for item in dashboard.details}
    with pytest.raises(KeyError):
        dashboard.card(spare)


def test_auto_refresh_starts_and_stops_its_poller(
    dashboard: EndpointDashboard, client: RestClient, spare: str
) -> None:
    dashboard.auto_refresh.value = True
    poller = dashboard.poller
    assert poller is not None and poller.running and dashboard.to_status()["auto_refresh"]
    ops.create_endpoint(client, spare)
    wait_until(
        lambda: spare in {i.endpoint.name for i in dashboard.details}, 15.0, what="the new endpoint to appear"
    )
    dashboard.auto_refresh.value = False
    assert dashboard.poller is None and not poller.running
    assert not mlep_threads()


def test_auto_refresh_stops_after_repeated_errors(clients: Clients, endpoint: str) -> None:
    made = EndpointDashboard(clients, interval=0.05, max_errors=3)
    try:
        made.client.close()  # every request now fails
        made.auto_refresh.value = True
        wait_until(lambda: not made.auto_refresh.value, 15.0, what="auto-refresh to give up")
        assert "stopped after 3 errors" in made.status_line.value
        assert made.error and not mlep_threads()
    finally:
        made.close()


def test_traffic_and_logs_actions(dashboard: EndpointDashboard, endpoint: str) -> None:
    card = dashboard.card(endpoint)
    card.traffic_button.click()
    (traffic,) = card.panel.children
    assert isinstance(traffic, TrafficWidget) and traffic.split() == {"blue": 100}
    card.traffic_button.click()
    assert card.panel.children == () and traffic.comm is None, "a second click closes it"

    card.logs_button.click()
    if card.panel.children:  # jupyter_mlep.widgets.logs is there
        assert "blue" in repr(card.panel.children[0]) or card.panel.children[0] is not None
    else:
        assert "logs" in card.message.value.lower()


def test_close_stops_threads_and_closes_its_client(clients: Clients, endpoint: str) -> None:
    made = EndpointDashboard(clients, interval=0.1)
    made.auto_refresh.value = True
    made.card(endpoint).traffic_button.click()
    made.refresh()
    made.close()
    assert not mlep_threads()
    assert made.comm is None and clients.made[-1].http.is_closed


def test_magic_shows_the_dashboard_interactively_and_a_table_in_static_mode(
    ip: Any, endpoint: str, ops_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLEP_HOME", str(ops_home))
    monkeypatch.setenv("MLEP_WIDGETS", "interactive")
    shown = ip.run_line_magic("endpoint", "list")
    try:
        assert isinstance(shown, EndpointDashboard) and shown.card(endpoint)
    finally:
        shown.close()
    monkeypatch.setenv("MLEP_WIDGETS", "static")
    table = ip.run_line_magic("endpoint", "list")
    assert isinstance(table, ops.EndpointList) and endpoint in repr(table)
