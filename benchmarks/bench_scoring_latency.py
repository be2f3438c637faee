"""Scoring latency of fixture model-1 through the Docker backend and the process backend.

One client, one request at a time, a new connection per request, on each server's Unix socket
(in Docker: the socket folder mounted into the container). Target: Docker p50 within 1.5× of the
process backend's (no proxy on the path).

    .venv/bin/python benchmarks/bench_scoring_latency.py [--requests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _runtime import score, setup_home, show, spec_for, tempdir, write_score

from jupyter_mlep.runtime import get_backend


def latencies(socket: str, count: int) -> list[float]:
    """``count`` sequential request latencies in seconds."""
    values = []
    for _ in range(count):
        started = time.perf_counter()
        status, _ = score(socket)
        values.append(time.perf_counter() - started)
        assert status == 200
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setup_home()
    code = tempdir("mlep-bench-code-")
    write_score(code, 0)
    sockets = {}
    backends = {name: get_backend(name, reporter=None) for name in ("process", "docker")}
    for name, backend in backends.items():
        sockets[name] = backend.start(spec_for(code, name=name)).socket
        latencies(sockets[name], 100)  # warm up
    p50: dict[str, list[float]] = {name: [] for name in backends}
    p99: dict[str, list[float]] = {name: [] for name in backends}
    for _ in range(args.rounds):  # interleaved rounds, so both see the same machine load
        for name in backends:
            values = sorted(latencies(sockets[name], args.requests))
            p50[name].append(statistics.median(values))
            p99[name].append(values[int(len(values) * 0.99) - 1])
    for name, backend in backends.items():
        backend.stop("bench", name)
    process, docker = statistics.median(p50["process"]), statistics.median(p50["docker"])
    show(
        "Scoring latency (fixture model-1, one connection at a time)",
        [
            ("process p50", f"{process * 1000:.2f} ms", f"median of {args.rounds} rounds × {args.requests}"),
            ("docker p50", f"{docker * 1000:.2f} ms", "Unix socket in a folder mounted into the container"),
            ("process p99", f"{statistics.median(p99['process']) * 1000:.2f} ms", ""),
            ("docker p99", f"{statistics.median(p99['docker']) * 1000:.2f} ms", ""),
            ("docker / process at p50", f"{docker / process:.2f}×", "target ≤ 1.5×"),
        ],
    )


if __name__ == "__main__":
    main()
