"""The local workspace: start time, create-to-first-score, and the scoring router's overhead.

Figures (medians; ratios measured in the same run):
- workspace start (``control.start``) to the first answered management request; target ≤ 1 s;
- endpoint + deployment create (environment cached) to ``Succeeded`` and the first score,
  through plain ARM calls polled every 10 ms; target ≤ 3 s;
- router overhead against calling the deployment's inference server directly on its Unix
  socket: p50 added with one connection (target ≤ 0.3 ms), and throughput with 4 connections
  (target ≥ 90 % of direct). A third column is a bare proxy on the same socket: an asyncio
  server (on uvloop, as the workspace) on 127.0.0.1 that copies bytes between each client
  connection and a Unix connection of its own, without reading HTTP, in a process of its own:
  the limit of any proxy on this machine, so the router's figures can be read against it.
  The three hit the same inference server (with the runtime's gunicorn configuration, which
  keeps connections alive unless ``MLEP_SERVER_KEEPALIVE=0``), from the same client:
  ``http.client`` connections (over AF_UNIX for direct calls), reused while the server keeps
  them alive, sending headers and body in one write. They are measured in alternating blocks
  (``--runs`` rounds, the order rotated every round) so that load from other processes hits all
  alike; the added latency is the median of the rounds' differences of p50s, the throughput ratio
  the median of the rounds' ratios;
- rolling code redeploys under load (``support.load``: 4 kept-alive connections, 250 requests/s
  through the router): requests failed or refused (target 0), the p99 latency while redeploying
  against the p99 of the same load with nothing changing, and the time from each deployment PUT
  to the first answer of the new code through the router.

    .venv/bin/python benchmarks/bench_workspace.py [--runs 5] [--requests 1000] [--skip-start]

(``--proxy SOCKET`` runs the bare proxy alone; the benchmark starts it so.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _common import MODEL_1, print_table
from support.arm import API, Arm, deployment_body, register_code, register_environment, register_model
from support.load import Http, Load, Outcome
from support.samples import SCORE_MODEL_1, sample_request, score_model_1
from support.workspace import running_workspace

from jupyter_mlep.runtime import RuntimeSettings, get_backend
from jupyter_mlep.workspace import control

Target = tuple[str, str, dict[str, str]]
"""Where a measurement sends its requests: (address, path, headers); the address is
``http://127.0.0.1:PORT`` or the path of a Unix socket."""


class _UnixConnection(http.client.HTTPConnection):
    """``http.client`` over a Unix domain socket.

    Not :func:`jupyter_mlep.runtime.uds_request`: that opens and closes a connection per request,
    while these measurements reuse one kept-alive connection per client, as the router's do.
    """

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _connect(address: str) -> http.client.HTTPConnection:
    if address.startswith("http://"):
        host, _, port = address.removeprefix("http://").partition(":")
        return http.client.HTTPConnection(host, int(port), timeout=30)
    return _UnixConnection(address, timeout=30)


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


def sequential_ms(target: Target, body: bytes, count: int) -> float:
    """Median latency of ``count`` sequential requests on one client connection."""
    address, path, headers = target
    conn = _connect(address)
    values = []
    for _ in range(count):
        started = time.perf_counter()
        _post(conn, path, headers, body)
        values.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(values) * 1000


def throughput(target: Target, body: bytes, count: int, connections: int = 4) -> float:
    """Requests per second with ``connections`` concurrent clients."""
    address, path, headers = target

    def worker() -> None:
        conn = _connect(address)
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


def keeps_alive(target: Target, body: bytes) -> bool:
    """Whether the server keeps the connection open after an answer."""
    address, path, headers = target
    conn = _connect(address)
    try:
        return _post(conn, path, headers, body)
    finally:
        conn.close()


def interleaved(measure: Callable[[Target], float], targets: list[Target], rounds: int) -> list[list[float]]:
    """``measure`` of each target in alternating blocks, the order rotated every round."""
    values: list[list[float]] = [[] for _ in targets]
    for index in range(rounds):
        shift = index % len(targets)
        order = list(range(len(targets)))[shift:] + list(range(len(targets)))[:shift]
        if index % 2:
            order.reverse()
        for position in order:
            values[position].append(measure(targets[position]))
    return values


def run_proxy(upstream: str) -> None:
    """The bare proxy: copy bytes between each TCP client connection and a Unix connection to
    ``upstream`` (opened when the client connects); print the port, then serve until killed."""
    import asyncio

    class Pipe(asyncio.Protocol):
        def __init__(self) -> None:
            self.peer: asyncio.Transport | None = None
            self.pending: list[bytes] = []
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]

        def data_received(self, data: bytes) -> None:
            if self.peer is None:
                self.pending.append(data)
            else:
                self.peer.write(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.peer is not None:
                self.peer.close()

    async def serve() -> None:
        loop = asyncio.get_running_loop()

        async def attach(client: Pipe) -> None:
            try:
                _, server = await loop.create_unix_connection(Pipe, upstream)
            except OSError:
                if client.transport is not None:
                    client.transport.close()
                return
            server.peer, client.peer = client.transport, server.transport
            for chunk in client.pending:
                client.peer.write(chunk)
            client.pending.clear()

        def accepted() -> Pipe:
            client = Pipe()
            loop.call_soon(lambda: loop.create_task(attach(client)))
            return client

        listener = await loop.create_server(accepted, "127.0.0.1", 0)
        print(listener.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    try:
        import uvloop
    except ImportError:
        asyncio.run(serve())
    else:
        uvloop.run(serve())


def _version(outcome: Outcome) -> object:
    answer = json.loads(outcome.body)
    return answer.get("version") if isinstance(answer, dict) else None


def _p99_ms(outcomes: list[Outcome]) -> float:
    latencies = sorted(o.end - o.start for o in outcomes)
    return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000


def rolling_redeploys(
    arm: Arm, ids: dict[str, str], endpoint: str, key: str, redeploys: int
) -> tuple[int, int, float, float, list[float]]:
    """(failed, requests, steady p99 ms, p99 ms while redeploying, seconds from PUT to first new answer)."""
    routed = f"{arm.info.base_url}/endpoints/{endpoint}/score"
    body = (MODEL_1 / "sample-request.json").read_bytes()
    codes = [register_code(arm, f"rolling-{v}", score_model_1(version=v)) for v in range(1, redeploys + 1)]
    path = f"/onlineEndpoints/{endpoint}/deployments/blue"
    to_first: list[float] = []
    with Load(Http(routed, {"Authorization": f"Bearer {key}"}, body), connections=4, rate=250) as load:
        time.sleep(5)
        steady = load.snapshot()
        started = time.monotonic()
        for version, code in enumerate(codes, start=1):
            sent = time.monotonic()
            response = arm.put(path, deployment_body(ids["model"], code, ids["env"]))
            first = load.wait_for(lambda o, v=version: o.status == 200 and _version(o) == v, timeout=60)
            to_first.append(first.end - sent)
            arm.ok(response, timeout=120)
        load.stop()
    during = [o for o in load.snapshot() if o.start >= started]
    failed = len(load.failures())
    return failed, len(load.snapshot()), _p99_ms(steady), _p99_ms(during), to_first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument(
        "--skip-start", action="store_true", help="measure the router only (one deployment, no start runs)"
    )
    parser.add_argument("--proxy", metavar="SOCKET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        run_proxy(args.proxy)
        return
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
        settings = RuntimeSettings.from_env({**os.environ, "MLEP_HOME": str(home)})
        backend = get_backend(os.environ["MLEP_RUNTIME"], settings=settings, reporter=None)
        server_socket = backend.status(endpoint, "blue").instances[0].socket
        proxy = subprocess.Popen(
            [sys.executable, __file__, "--proxy", server_socket], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proxy.stdout is not None
            proxy_port = int(proxy.stdout.readline())
            auth = {"Authorization": f"Bearer {key}"}
            targets: list[Target] = [
                (server_socket, "/score", {}),
                (info.base_url, f"/endpoints/{endpoint}/score", auth),
                (f"http://127.0.0.1:{proxy_port}", "/score", {}),
            ]
            body = (MODEL_1 / "sample-request.json").read_bytes()
            kept_alive = keeps_alive(targets[0], body)
            for target in targets:
                sequential_ms(target, body, 100)
            latencies = interleaved(lambda t: sequential_ms(t, body, args.requests), targets, args.runs)
            rates = interleaved(lambda t: throughput(t, body, args.requests), targets, args.runs)
        finally:
            proxy.kill()
            proxy.wait()
        failed, sent, steady_p99, rolling_p99, to_first = rolling_redeploys(arm, ids, endpoint, key, 10)
    shutil.rmtree(home, ignore_errors=True)
    direct_ms, router_ms, proxy_ms = latencies
    direct_rps, router_rps, proxy_rps = rates
    added = statistics.median(r - d for d, r in zip(direct_ms, router_ms, strict=True))
    proxy_added = statistics.median(p - d for d, p in zip(direct_ms, proxy_ms, strict=True))
    ratio = statistics.median(r / d for d, r in zip(direct_rps, router_rps, strict=True))
    proxy_ratio = statistics.median(p / d for d, p in zip(direct_rps, proxy_rps, strict=True))
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
                "score p50, direct to azmlinfsrv on its Unix socket (1 connection)",
                f"{statistics.median(direct_ms):.2f} ms",
                f"baseline; server keeps connections alive: {'yes' if kept_alive else 'no'}; "
                f"{args.runs} rounds of {args.requests} requests",
            ),
            (
                "score p50, through the router (1 connection)",
                f"{statistics.median(router_ms):.2f} ms",
                f"added {added:+.2f} ms (median of the rounds' differences; rounds: "
                f"{', '.join(f'{r - d:+.2f}' for d, r in zip(direct_ms, router_ms, strict=True))}); "
                "target ≤ +0.3 ms",
            ),
            (
                "score p50, through a bare byte-copying proxy (1 connection)",
                f"{statistics.median(proxy_ms):.2f} ms",
                f"added {proxy_added:+.2f} ms: the limit of a proxy on this machine",
            ),
            ("throughput, direct (4 connections)", f"{statistics.median(direct_rps):.0f} req/s", "baseline"),
            (
                "throughput, through the router (4 connections)",
                f"{statistics.median(router_rps):.0f} req/s",
                f"{ratio:.0%} of direct (median of the rounds' ratios; rounds: "
                f"{', '.join(f'{r / d:.0%}' for d, r in zip(direct_rps, router_rps, strict=True))}); "
                "target ≥ 90 %",
            ),
            (
                "throughput, through a bare byte-copying proxy (4 connections)",
                f"{statistics.median(proxy_rps):.0f} req/s",
                f"{proxy_ratio:.0%} of direct: the limit of a proxy on this machine",
            ),
            (
                "requests failed or refused during 10 rolling code redeploys under load",
                f"{failed} of {sent}",
                "4 connections, 250 requests/s through the router; target 0",
            ),
            (
                "p99 latency during the redeploys (vs the same load, nothing changing)",
                f"{rolling_p99:.1f} ms ({steady_p99:.1f} ms)",
                f"added {rolling_p99 - steady_p99:+.1f} ms",
            ),
            (
                "code redeploy PUT → first answer of the new code through the router",
                f"{statistics.median(to_first):.2f} s",
                f"median of {len(to_first)}; max {max(to_first):.2f} s",
            ),
        ],
    )


if __name__ == "__main__":
    main()
