"""Deployment metrics end to end against the local workspace over real HTTP: real deployments,
real requests through the router, the Azure Monitor metrics path read by ``get_metrics``, the raw
answer checked against Azure Monitor's shape, and the verb from the command line."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.clients import make_client
from support.samples import SampleTree

from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_deployment, load_endpoint
from jupyter_mlep.workspace import WorkspaceInfo

SCORE = """\
import json
import time


def init():
    print("ready")


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("burn"):
        end = time.perf_counter() + data["burn"]
        while time.perf_counter() < end:
            pass
    else:
        time.sleep(data.get("sleep", 0.03))
    if data.get("fail"):
        raise RuntimeError("failing on purpose")
    return [1]
"""

CLI = Path(sys.executable).with_name("jupyter-mlep")


class Metrics:
    def __init__(self, client: RestClient, endpoint: str) -> None:
        self.endpoint = endpoint
        self.uri = str(ops.get_endpoint(client, endpoint).scoring_uri)
        self.key = ops.get_keys(client, endpoint).primary_key

    def send(self, payload: dict[str, Any], count: int, deployment: str = "busy") -> list[tuple[int, float]]:
        """``count`` requests to ``deployment``: (status, client-side latency in ms) of each."""
        headers = {"Authorization": f"Bearer {self.key}", "azureml-model-deployment": deployment}
        out = []
        with httpx.Client(timeout=30) as http:
            for _ in range(count):
                started = time.perf_counter()
                reply = http.post(self.uri, json=payload, headers=headers)
                out.append((reply.status_code, (time.perf_counter() - started) * 1000.0))
        return out


@pytest.fixture(scope="module")
def metrics(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[Metrics]:
    root = tmp_path_factory.mktemp("metrics")
    tree = SampleTree(root, azureml_examples, f"met-{uuid.uuid4().hex[:6]}")
    with make_client(workspace) as client:
        ops.create_endpoint(client, load_endpoint(tree.endpoint_yml))
        base = load_deployment(tree.green)
        assert base.code_configuration is not None
        code = root / "code"
        code.mkdir()
        (code / "score.py").write_text(SCORE)
        config = base.code_configuration.model_copy(update={"code": code})
        for name in ("busy", "idle"):
            spec = base.model_copy(update={"name": name, "code_configuration": config})
            ops.deploy(client, spec, traffic=100 if name == "busy" else None, timeout=600)
        try:
            yield Metrics(client, tree.endpoint)
        finally:
            ops.delete_endpoint(client, tree.endpoint, timeout=120)


def test_counts_and_latency_match_the_requests_sent(metrics: Metrics, client: RestClient) -> None:
    sent = metrics.send({"sleep": 0.15}, 40) + metrics.send({"sleep": 0.0, "fail": True}, 3)
    assert [s for s, _ in sent].count(200) == 40 and [s for s, _ in sent].count(500) == 3
    result = ops.get_metrics(
        client, metrics.endpoint, metrics=["RequestsPerMinute"], since=600, split="statusCode"
    )
    counts = {item.dimensions["statusCode"]: item.total() for item in result.series}
    assert counts == {"200": 40.0, "500": 3.0}
    by_deployment = ops.get_metrics(
        client, metrics.endpoint, "busy", metrics=["RequestsPerMinute"], since=600
    )
    assert by_deployment.series[0].total() == 43.0
    idle = ops.get_metrics(client, metrics.endpoint, "idle", metrics=["RequestsPerMinute"], since=600)
    assert idle.series[0].total() == 0.0

    # percentiles over the 40 slow requests only (the failures are fast): one bucket for the window;
    # 150 ms of sleep per request dwarfs what the client adds around the router's measure
    mine = sorted(ms for status, ms in sent if status == 200)
    result = ops.get_metrics(
        client, metrics.endpoint, "busy",
        metrics=["RequestLatency_P50", "RequestLatency_P90"], since=600, interval=3600,
    )  # fmt: skip
    p50 = result.of("RequestLatency_P50")
    assert p50 is not None
    server = [p.value() for p in p50.points if p.value() is not None]
    assert len(server) == 1
    # the 3 fast failures sit below the median: the router's p50 is the client's p(50-3.5)
    client_p50 = statistics.median(mine[:-3])
    assert abs(server[0] - client_p50) / client_p50 < 0.10, (server[0], client_p50)
    assert "RequestLatency_P50" in result.text() and STATUS_MIME in result.mimebundle()


def test_answer_has_azure_monitors_shape(metrics: Metrics, client: RestClient) -> None:
    metrics.send({"sleep": 0.0}, 2)
    path = client.paths.endpoint(metrics.endpoint) + "/providers/Microsoft.Insights/metrics"
    params = {
        "api-version": "2023-10-01",
        "metricnames": "RequestsPerMinute,RequestLatency",
        "timespan": "PT10M",
        "interval": "PT1M",
        "aggregation": "Total,Average,Count",
        "$filter": "deployment eq '*'",
    }
    answer = client.get(path, params=params)
    assert set(answer) >= {"cost", "timespan", "interval", "value", "namespace", "resourceregion"}
    assert answer["interval"] == "PT1M" and "/" in answer["timespan"]
    for metric in answer["value"]:
        assert set(metric) >= {"id", "type", "name", "unit", "timeseries", "errorCode"}
        assert metric["type"] == "Microsoft.Insights/metrics" and metric["id"].endswith(
            metric["name"]["value"]
        )
        assert set(metric["name"]) == {"value", "localizedValue"}
        for series in metric["timeseries"]:
            assert [m["name"]["value"] for m in series["metadatavalues"]] == ["deployment"]
            assert len(series["data"]) in (10, 11)
            for point in series["data"]:
                assert point["timeStamp"].endswith(":00Z")
                assert set(point) - {"timeStamp"} <= {"total", "average", "count"}
    wrong = client.request("GET", path, params={**params, "metricnames": "NoSuchMetric"}, raise_errors=False)
    assert wrong.status_code == 400 and "NoSuchMetric" in wrong.text
    cpu_on_endpoint = client.request(
        "GET", path, params={**params, "metricnames": "CpuUtilizationPercentage"}, raise_errors=False
    )
    assert cpu_on_endpoint.status_code == 400 and "Valid metrics" in cpu_on_endpoint.text


def test_cpu_of_a_busy_deployment_is_above_an_idle_one(metrics: Metrics, client: RestClient) -> None:
    deadline = time.monotonic() + 60
    busy = idle = 0.0
    while time.monotonic() < deadline:
        metrics.send({"burn": 0.5}, 6)
        result = ops.get_metrics(
            client, metrics.endpoint, "busy", metrics=["CpuUtilizationPercentage"], since=300,
            aggregations=["Maximum"],
        )  # fmt: skip
        values = [p.value("maximum") for s in result.series for p in s.points]
        busy = max([v for v in values if v is not None] or [0.0])
        if busy > 20:
            break  # a busy server burns most of a core (less while other work shares the machine)
    sampled = time.monotonic() + 30  # the sampler reads every deployment every 10 s
    while True:
        quiet = ops.get_metrics(
            client,
            metrics.endpoint,
            "idle",
            metrics=["CpuUtilizationPercentage"],
            since=300,
            aggregations=["Maximum"],
        )
        values = [p.value("maximum") for s in quiet.series for p in s.points]
        if any(v is not None for v in values) or time.monotonic() > sampled:
            break
        time.sleep(0.5)
    idle = max([v for v in values if v is not None] or [0.0])
    assert any(v is not None for v in values), "the idle deployment is sampled too"
    print(f"\nCPU: busy deployment {busy:.1f} %, idle deployment {idle:.1f} %")
    assert busy > 10 and busy > idle + 8


def test_cli_metrics_json(metrics: Metrics, ops_home: Path) -> None:
    env = {**os.environ, "MLEP_HOME": str(ops_home)}
    done = subprocess.run(
        [str(CLI), "endpoint", "-o", "json", "metrics", metrics.endpoint, "--since", "10m",
         "--metric", "RequestsPerMinute", "--split", "statusCode"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["endpoint"] == metrics.endpoint and summary["series"]
    assert {s["name"] for s in summary["series"]} == {"RequestsPerMinute"}
    bad = subprocess.run(
        [str(CLI), "endpoint", "metrics", metrics.endpoint, "--interval", "30s"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "shorter than a minute" in bad.stderr
