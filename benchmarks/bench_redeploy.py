"""Redeploy loop on fixture model-1: from a changed scoring script to the first response reflecting it.

Updates roll: the new server starts beside the old one, which answers until ``on_ready`` (the
switch). "To the first new answer" is from the ``update()`` call to the first answer of the new
server, made in ``on_ready``; the whole ``update()`` also stops the old server. A client calls
/score all along (one connection at a time, switched and drained in ``on_ready``, as the router
does): it must see no failed request; its p99 during the updates is compared with before them.

Baselines measured in the same run: a cold restart of azmlinfsrv on the same environment (process),
and an image rebuild plus a new container (what the Azure ML CLI does for a local endpoint; docker).
Targets: process ≤ 0.6 s median and ≥ 4× faster than the cold restart; Docker ≤ 3 s and ≥ 10×
faster than the rebuild path.

    .venv/bin/python benchmarks/bench_redeploy.py [--runs 5] [--backends process,docker]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import docker
from _runtime import (
    fmt,
    median,
    score,
    setup_home,
    show,
    spec_for,
    tempdir,
    timed,
    wait_for_version,
    write_score,
)

from jupyter_mlep.runtime import Backend, DeploymentInfo, get_backend
from jupyter_mlep.runtime.agent import GUNICORN_CONF


class Client(threading.Thread):
    """Calls /score in a loop on the current socket; :meth:`switch` moves it and drains the old one."""

    def __init__(self, socket: str) -> None:
        super().__init__(daemon=True)
        self.socket = socket
        self.samples: list[tuple[float, float]] = []  # (start, latency)
        self.failures: list[str] = []
        self._busy: Counter[str] = Counter()
        self._lock = threading.Condition()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            with self._lock:
                socket = self.socket
                self._busy[socket] += 1
            started = time.perf_counter()
            try:
                status, body = score(socket, timeout=30)
                if status != 200:
                    self.failures.append(f"{status} {body[:100]!r}")
            except OSError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                self.samples.append((started, time.perf_counter() - started))
                with self._lock:
                    self._busy[socket] -= 1
                    self._lock.notify_all()

    def switch(self, info: DeploymentInfo) -> None:
        with self._lock:
            old, self.socket = self.socket, info.socket
            self._lock.wait_for(lambda: self._busy[old] == 0, timeout=60)

    def stop(self) -> None:
        self._done.set()
        self.join(60)


@dataclass
class Redeploys:
    """What the redeploy loop measured."""

    first_answer: list[float] = field(default_factory=list)
    update: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    p99_before: float = 0.0
    p99_during: float = 0.0
    requests: int = 0


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)] if ordered else float("nan")


def redeploys(backend: Backend, code: Path, runs: int) -> Redeploys:
    """``runs`` code changes picked up through ``backend.update`` while a client calls the server."""
    spec = spec_for(code)
    info = backend.start(spec)
    wait_for_version(info.socket, 0)
    time.sleep(3)  # let the launcher finish importing the environment's packages
    result = Redeploys()
    client = Client(info.socket)
    client.start()
    windows = []
    try:
        time.sleep(2)
        calm = time.perf_counter()
        for version in range(1, runs + 1):
            write_score(code, version)
            started = time.perf_counter()

            def on_ready(ready: DeploymentInfo, v: int = version, t0: float = started) -> None:
                wait_for_version(ready.socket, v)
                result.first_answer.append(time.perf_counter() - t0)
                client.switch(ready)

            result.update.append(timed(lambda: backend.update(spec, on_ready=on_ready)))
            windows.append((started, time.perf_counter()))
            time.sleep(1)
    finally:
        client.stop()
        backend.stop("bench", "bench")
    result.failures = client.failures
    result.requests = len(client.samples)
    result.p99_before = _p99([lat for at, lat in client.samples if at < calm])
    result.p99_during = _p99([lat for at, lat in client.samples if any(a <= at <= b for a, b in windows)])
    return result


def cold_restarts(backend: Backend, code: Path, runs: int) -> list[float]:
    """Times of a plain azmlinfsrv restart on the same (cached) virtual environment."""
    prepared = backend.prepare_environment(spec_for(code).environment)
    azmlinfsrv = str(Path(prepared.python).parent / "azmlinfsrv")
    model_dir = tempdir("mlep-bench-models-")
    (model_dir / "model").symlink_to(spec_for(code).model or "", target_is_directory=True)
    values = []
    sockets = tempdir("mlep-bench-sock-")
    for version in range(100, 100 + runs):
        write_score(code, version)
        socket = str(sockets / f"{version}.sock")
        env = {
            "PATH": f"{Path(azmlinfsrv).parent}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/root"),
            "AZUREML_MODEL_DIR": str(model_dir),
            "MLEP_GUNICORN_BIND": f"unix:{socket}",  # the baseline serves on a Unix socket too
            "GUNICORN_CMD_ARGS": f"-c {GUNICORN_CONF}",
            "MLEP_SERVER_CWD": str(code),
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [azmlinfsrv, "--entry_script", str(code / "score.py")],
            cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_version(socket, version)
            values.append(time.perf_counter() - started)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    shutil.rmtree(model_dir, ignore_errors=True)
    return values


def rebuilds(backend: Backend, code: Path, runs: int) -> list[float]:
    """Times of an image rebuild plus a new container, as the Azure ML CLI does on every update."""
    spec = spec_for(code)
    values = []
    client = docker.from_env(timeout=300)
    for version in range(200, 200 + runs):
        write_score(code, version)
        prepared = backend.prepare_environment(spec.environment)
        client.images.remove(prepared.location, force=True)

        def rebuild(v: int = version) -> None:
            info = backend.start(spec)
            wait_for_version(info.socket, v)

        values.append(timed(rebuild))
        backend.stop("bench", "bench")
    client.close()
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="process,docker")
    args = parser.parse_args()
    setup_home()
    rows = []
    for name in args.backends.split(","):
        backend = get_backend(name, reporter=None)
        code = tempdir("mlep-bench-code-")
        write_score(code, 0)
        backend.prepare_environment(spec_for(code).environment)  # the build is not part of the loop
        measured = redeploys(backend, code, args.runs)
        fast = measured.first_answer
        if name == "process":
            base = cold_restarts(backend, code, args.runs)
            label, target = "cold restart of azmlinfsrv (same venv)", "≤ 0.6 s and ≥ 4×"
        else:
            base = rebuilds(backend, code, args.runs)
            label, target = "image rebuild + new container", "≤ 3 s and ≥ 10×"
        ratio = median(base) / median(fast)
        rows += [
            (f"{name}: redeploy after a code change, to the first new answer", fmt(fast), f"target {target}"),
            (f"{name}: the whole update() (old server stopped)", fmt(measured.update), "rolling"),
            (f"{name}: baseline, {label}", fmt(base), "same run"),
            (f"{name}: speed-up", f"{ratio:.1f}×", "baseline median / redeploy median"),
            (
                f"{name}: failed requests during the redeploys",
                f"{len(measured.failures)} of {measured.requests}",
                "target 0" + (f"; first: {measured.failures[0]}" if measured.failures else ""),
            ),
            (
                f"{name}: p99 latency, before → during the updates",
                f"{measured.p99_before * 1000:.1f} → {measured.p99_during * 1000:.1f} ms",
                "one client, a new connection per request",
            ),
        ]
    show("Redeploy loop (fixture model-1)", rows)


if __name__ == "__main__":
    main()
