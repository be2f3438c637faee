"""What recording metrics costs the scoring router, and the memory of 24 hours of metrics.

Figures (medians over ``--runs`` rounds, measured in the same run):
- the router's CPU per request: CPU seconds of the workspace process (``/proc/PID/stat``) while
  one client sends ``--requests`` requests through the router to a deployment (process runtime,
  fixture model-1), divided by the requests;
- recording per request: what the router records for one request (a connection started, the
  request answered, the connection ended), timed in this process on the workspace's own
  :class:`~jupyter_mlep.workspace.metrics.MetricSeries`; target ≤ 5 % of the router's CPU;
- the memory and the saved file of 25 hours of metrics for 10 busy deployments (a synthetic run
  on a fake clock).

    .venv/bin/python benchmarks/bench_metrics.py [--runs 5] [--requests 400]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx
from _common import MODEL_1, print_table
from bench_workspace import deploy, register_assets
from support.arm import Arm
from support.workspace import running_workspace

from jupyter_mlep.workspace.metrics import RETENTION_MINUTES, MetricSeries


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def router_cpu_us(pid: int, url: str, key: str, body: bytes, count: int) -> float:
    """The workspace process's CPU per request (µs) over ``count`` sequential requests."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(timeout=30) as http:
        before = _cpu_seconds(pid)
        for _ in range(count):
            assert http.post(url, content=body, headers=headers).status_code == 200
        return (_cpu_seconds(pid) - before) / count * 1e6


def recording_us(rounds: int = 50_000) -> float:
    """What the router records per request (µs of CPU), on a series with 10 deployments."""
    series = MetricSeries()
    names = [f"d{i}" for i in range(10)]
    started = time.process_time()
    for i in range(rounds):
        name = names[i % 10]
        series.connection("ep", name, 1)
        series.request("ep", name, 200, 1.0 + (i % 97) / 10, 120)
        series.connection("ep", name, -1)
    return (time.process_time() - started) / rounds * 1e6


def day_of_metrics() -> tuple[float, float]:
    """Peak traced MiB and saved MiB of 25 h of metrics for 10 busy deployments."""
    now = [1_800_000_000.0]
    series = MetricSeries(clock=lambda: now[0])
    tracemalloc.start()
    for second in range(0, RETENTION_MINUTES * 60, 20):  # three requests a minute, all kept
        now[0] = 1_800_000_000.0 + second
        for dep in range(10):
            series.request("ep", f"d{dep}", 200 if second % 600 else 500, 5.0 + dep + second % 7)
            if second % 60 == 0:
                series.sample("ep", f"d{dep}", "i0", 20.0, 10.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, len(series.dump()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mlep-bench-metrics-"))
    os.environ["MLEP_RUNTIME"] = os.environ.get("MLEP_RUNTIME", "process")
    body = (MODEL_1 / "sample-request.json").read_bytes()
    router: list[float] = []
    record: list[float] = []
    with running_workspace(home) as info, Arm(info, timeout=600, poll=0.01) as arm:
        deploy(arm, register_assets(arm), "bench")
        key = arm.post("/onlineEndpoints/bench/listKeys").json()["primaryKey"]
        url = f"{info.base_url}/endpoints/bench/score"
        router_cpu_us(info.pid, url, key, body, 100)  # warm up
        for _ in range(args.runs):  # alternating, so both see the same machine load
            router.append(router_cpu_us(info.pid, url, key, body, args.requests))
            record.append(recording_us())
    shutil.rmtree(home, ignore_errors=True)
    ratios = [r / c for r, c in zip(record, router, strict=True)]
    peak, saved = day_of_metrics()
    print_table(
        "Metrics recording in the router",
        [
            (
                "router CPU per request (workspace process)",
                f"{statistics.median(router):.0f} µs",
                f"{args.runs} rounds of {args.requests} sequential requests; rounds: "
                + ", ".join(f"{v:.0f}" for v in router),
            ),
            ("recording per request", f"{statistics.median(record):.2f} µs", "connection ±1 and the request"),
            (
                "recording / router CPU",
                f"{statistics.median(ratios):.1%}",
                "median of the rounds' ratios; target ≤ 5 %",
            ),
            ("25 h of metrics, 10 busy deployments: memory", f"{peak:.1f} MiB", "peak traced"),
            ("… saved to metrics.json", f"{saved:.1f} MiB", "what a restart reads back"),
        ],
    )


if __name__ == "__main__":
    main()
