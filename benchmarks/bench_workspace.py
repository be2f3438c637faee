"""The local workspace: start time, create-to-first-score, and the scoring router's overhead.

Figures (medians; ratios measured in the same run):
- workspace start (``control.start``) to the first answered management request; target ≤ 1 s;
- endpoint + deployment create (environment cached) to ``Succeeded`` and the first score,
  through plain ARM calls polled every 10 ms; target ≤ 3 s;
- router overhead against calling the deployment's inference server directly: p50 added with
  one connection (target ≤ 0.3 ms), and throughput with 4 connections (target ≥ 90 % of direct).
  Direct and routed calls hit the same inference server (with the runtime's gunicorn
  configuration, which keeps connections alive unless ``MLEP_SERVER_KEEPALIVE=0``), from the same
  client: ``http.client`` connections, reused while the server keeps them alive, sending headers
  and body in one write. The two are measured in alternating blocks (``--runs`` rounds, the order
  swapped every round) so that load from other processes hits both alike; the added latency is
  the median of the rounds' differences of p50s, the throughput ratio the median of the rounds'
  ratios.

    .venv/bin/python benchmarks/bench_workspace.py [--runs 5] [--requests 1000] [--skip-start]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _common import MODEL_1, print_table
from support.arm import API, Arm, deployment_body, register_code, register_environment, register_model
from support.samples import SCORE_MODEL_1, sample_request
from support.workspace import running_workspace

from jupyter_mlep.workspace import control


def register_assets(arm: Arm) -> dict[str, str]:
    """Upload model-1 and its script, register model, code and environment; their ARM ids."""
    return {
        "model": register_model(arm, "m1", MODEL_1 / "model"),
        "code": register_code(arm, "c1", SCORE_MODEL_1),
        "env": register_environment(arm, "e1", MODEL_1 / "environment" / "conda.yaml"),
    }


def deploy(arm: Arm, ids: dict[str, str], endpoint: str) -> tuple[float, float]:
    """Seconds from the endpoint PUT to the first answered score, and the deployment's share of it."""
    request = sample_request()
    started = time.perf_counter()
    arm.ok(arm.put(f"/onlineEndpoints/{endpoint}", {"location": "local", "properties": {"authMode": "Key"}}))
    body = deployment_body(ids["model"], ids["code"], ids["env"])
    deployment_started = time.perf_counter()
    arm.ok(arm.put(f"/onlineEndpoints/{endpoint}/deployments/blue", body), timeout=600)
    deployment = time.perf_counter() - deployment_started
    arm.ok(
        arm.put(
            f"/onlineEndpoints/{endpoint}",
            {"location": "local", "properties": {"authMode": "Key", "traffic": {"blue": 100}}},
        )
    )
    key = arm.post(f"/onlineEndpoints/{endpoint}/listKeys").json()["primaryKey"]
    answer = httpx.post(
        f"{arm.info.base_url}/endpoints/{endpoint}/score",
        json=request,
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    return time.perf_counter() - started, deployment


def measure_start(runs: int) -> float:
    values = []
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="mlep-bench-ws-"))
        try:
            started = time.perf_counter()
            info = control.start(home)
            response = httpx.get(
                info.workspace_url,
                params={"api-version": API},
                headers={"Authorization": f"Bearer {info.token}"},
            )
            assert response.status_code == 200
            values.append(time.perf_counter() - started)
        finally:
            control.stop(home)
            shutil.rmtree(home, ignore_errors=True)
    return statistics.median(values)


def _post(conn: http.client.HTTPConnection, path: str, headers: dict[str, str], body: bytes) -> bool:
    """One POST (headers and body in one write, as http.client sends them); reconnects after a close.

    True when the server kept the connection open.
    """
    conn.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    if response.will_close:
        conn.close()
        return False
    return True


def _split(url: str) -> tuple[int, str]:
    rest = url.removeprefix("http://127.0.0.1:")
    port, _, path = rest.partition("/")
    return int(port), "/" + path


def sequential_ms(url: str, headers: dict[str, str], body: bytes, count: int) -> float:
    """Median latency of ``count`` sequential requests on one client connection."""
    port, path = _split(url)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    values = []
    for _ in range(count):
        started = time.perf_counter()
        _post(conn, path, headers, body)
        values.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(values) * 1000


def throughput(url: str, headers: dict[str, str], body: bytes, count: int, connections: int = 4) -> float:
    """Requests per second with ``connections`` concurrent clients."""
    port, path = _split(url)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count // connections):
            _post(conn, path, headers, body)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (count // connections) * connections / (time.perf_counter() - started)


def keeps_alive(url: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether the server at ``url`` keeps the connection open after an answer."""
    port, path = _split(url)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return _post(conn, path, headers, body)
    finally:
        conn.close()


def interleaved(
    measure: Callable[[str, dict[str, str]], float],
    direct: tuple[str, dict[str, str]],
    routed: tuple[str, dict[str, str]],
    rounds: int,
) -> tuple[list[float], list[float]]:
    """``measure`` of direct and routed calls in alternating blocks, the order swapped every round."""
    direct_values: list[float] = []
    routed_values: list[float] = []
    for index in range(rounds):
        order = [(direct, direct_values), (routed, routed_values)]
        for (url, headers), values in order if index % 2 == 0 else reversed(order):
            values.append(measure(url, headers))
    return direct_values, routed_values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument(
        "--skip-start", action="store_true", help="measure the router only (one deployment, no start runs)"
    )
    args = parser.parse_args()
    start_s = measure_start(args.runs) if not args.skip_start else float("nan")

    home = Path(tempfile.mkdtemp(prefix="mlep-bench-ws-"))
    os.environ["MLEP_RUNTIME"] = os.environ.get("MLEP_RUNTIME", "process")
    with running_workspace(home) as info, Arm(info, timeout=600, poll=0.01) as arm:
        ids = register_assets(arm)
        deploy(arm, ids, "warmup")  # builds (or finds) the environment once
        timings = [deploy(arm, ids, f"bench-{i}") for i in range(1 if args.skip_start else args.runs)]
        creates = [total for total, _ in timings]
        servers = [server for _, server in timings]
        endpoint = "bench-0"
        key = arm.post(f"/onlineEndpoints/{endpoint}/listKeys").json()["primaryKey"]
        record = next(
            json.loads(p.read_text())
            for p in (home / "runtime").glob("*/state.json")
            if json.loads(p.read_text())["endpoint"] == endpoint
        )
        direct = f"http://127.0.0.1:{record['instances'][0]['port']}/score"
        routed = f"{info.base_url}/endpoints/{endpoint}/score"
        body = (MODEL_1 / "sample-request.json").read_bytes()
        auth = {"Authorization": f"Bearer {key}"}
        kept_alive = keeps_alive(direct, {}, body)
        sequential_ms(direct, {}, body, 100)
        sequential_ms(routed, auth, body, 100)
        latencies = interleaved(
            lambda url, headers: sequential_ms(url, headers, body, args.requests),
            (direct, {}),
            (routed, auth),
            args.runs,
        )
        rates = interleaved(
            lambda url, headers: throughput(url, headers, body, args.requests),
            (direct, {}),
            (routed, auth),
            args.runs,
        )
    shutil.rmtree(home, ignore_errors=True)
    added = statistics.median(r - d for d, r in zip(*latencies, strict=True))
    ratio = statistics.median(r / d for d, r in zip(*rates, strict=True))
    print_table(
        "Local workspace",
        [
            ("workspace start → first answered request", f"{start_s * 1000:.0f} ms", "target ≤ 1 s"),
            (
                "endpoint + deployment create → Succeeded + first score (env cached)",
                f"{statistics.median(creates):.2f} s",
                f"target ≤ 3 s; runs: {', '.join(f'{c:.2f}' for c in creates)}",
            ),
            (
                "… of which the deployment PUT → Succeeded (runtime start + health)",
                f"{statistics.median(servers):.2f} s",
                "the rest: endpoint PUT, traffic PUT, listKeys, first score",
            ),
            (
                "score p50, direct to azmlinfsrv (1 connection)",
                f"{statistics.median(latencies[0]):.2f} ms",
                f"baseline; server keeps connections alive: {'yes' if kept_alive else 'no'}; "
                f"{args.runs} rounds of {args.requests} requests",
            ),
            (
                "score p50, through the router (1 connection)",
                f"{statistics.median(latencies[1]):.2f} ms",
                f"added {added:+.2f} ms (median of the rounds' differences; rounds: "
                f"{', '.join(f'{r - d:+.2f}' for d, r in zip(*latencies, strict=True))}); target ≤ +0.3 ms",
            ),
            ("throughput, direct (4 connections)", f"{statistics.median(rates[0]):.0f} req/s", "baseline"),
            (
                "throughput, through the router (4 connections)",
                f"{statistics.median(rates[1]):.0f} req/s",
                f"{ratio:.0%} of direct (median of the rounds' ratios; rounds: "
                f"{', '.join(f'{r / d:.0%}' for d, r in zip(*rates, strict=True))}); target ≥ 90 %",
            ),
        ],
    )


if __name__ == "__main__":
    main()
