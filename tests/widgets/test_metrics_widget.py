"""The metrics widget against a real local workspace: it reads again while open, stops when
closed, and ``%endpoint metrics`` shows it interactively and the result (with chart images)
in static mode."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.clients import make_client
from support.samples import SampleTree
from support.waiting import unique, wait_until

from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_endpoint
from jupyter_mlep.widgets.metrics import MetricsWidget
from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="module")
def endpoint(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[str]:
    tree = SampleTree(tmp_path_factory.mktemp("mw"), azureml_examples, unique("mw"))
    with make_client(workspace) as client:
        ops.create_endpoint(client, load_endpoint(tree.endpoint_yml))
        try:
            yield tree.endpoint
        finally:
            ops.delete_endpoint(client, tree.endpoint)


def metrics_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mlep-metrics")]


def test_widget_reads_again_while_open_and_stops_when_closed(workspace: WorkspaceInfo, endpoint: str) -> None:
    made: list[RestClient] = []

    def factory() -> RestClient:
        made.append(make_client(workspace))
        return made[-1]

    reads: list[int] = []

    def read(client: Any) -> ops.MetricsResult:
        reads.append(1)
        return ops.get_metrics(client, endpoint, metrics=["RequestsPerMinute"], since=300)

    widget = MetricsWidget(factory, read, refresh=0.1)
    try:
        assert "mlep-metrics" in widget._dom_classes and f"Metrics of {endpoint}" in widget.body.value
        wait_until(lambda: len(reads) >= 3, timeout=10, what="two more reads")
        bundle = widget._repr_mimebundle_()
        assert bundle["text/plain"].startswith(f"Metrics of {endpoint}")
        assert bundle[STATUS_MIME]["kind"] == "metrics" and bundle[STATUS_MIME]["widget"] == "metrics"
    finally:
        widget.close()
    assert not metrics_threads() and made[-1].http.is_closed


def test_magic_shows_the_widget_interactively_and_the_result_in_static_mode(
    ip: Any, endpoint: str, ops_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLEP_HOME", str(ops_home))
    monkeypatch.setenv("MLEP_WIDGETS", "interactive")
    shown = ip.run_line_magic("endpoint", f"metrics {endpoint} --since 5m")
    try:
        assert isinstance(shown, MetricsWidget)
    finally:
        shown.close()
    monkeypatch.setenv("MLEP_WIDGETS", "static")
    result = ip.run_line_magic(
        "endpoint", f"metrics {endpoint} --since 5m --metric RequestsPerMinute,RequestLatency"
    )
    assert isinstance(result, ops.MetricsResult) and endpoint in repr(result)
    assert [s.name for s in result.series] == ["RequestsPerMinute", "RequestLatency"]
    with pytest.raises(Exception, match="NoSuchMetric"):
        ip.run_line_magic("endpoint", f"metrics {endpoint} --metric NoSuchMetric")
