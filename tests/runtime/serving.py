"""Calling the runtime's servers on their Unix sockets, finding their processes, and clients that keep
calling them while a deployment changes."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import docker

from jupyter_mlep.runtime import Backend, DeploymentInfo, uds_request

JSON = {"Content-Type": "application/json"}


def post_json(socket: str, payload: Any, timeout: float = 10.0) -> tuple[int, Any]:
    """POST a JSON body to ``/score`` on ``socket``; (status, parsed JSON or text)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, _, data = uds_request(socket, "POST", "/score", body, JSON, timeout=timeout)
    text = data.decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def get(socket: str, path: str = "/", timeout: float = 10.0) -> tuple[int, str]:
    """GET ``path`` on ``socket``; (status, body)."""
    status, _, data = uds_request(socket, "GET", path, timeout=timeout)
    return status, data.decode()


def server_pids(backend: Backend, info: DeploymentInfo) -> set[int]:
    """Host pids of every process that runs the deployment's servers (and their launchers)."""
    roots: set[int] = set()
    if backend.name == "docker":
        client = docker.from_env(timeout=60)
        try:
            for instance in info.instances:
                state = client.api.inspect_container(instance.container or "")["State"]
                roots.add(int(state["Pid"]))
        finally:
            client.close()
    else:
        roots = {instance.pid for instance in info.instances if instance.pid is not None}
    return _with_descendants(roots)


def _with_descendants(roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def tcp_listeners(pids: set[int]) -> list[str]:
    """``pid address:port`` of every TCP socket in LISTEN state that one of ``pids`` holds."""
    found = []
    for pid in pids:
        try:
            inodes = {
                os.readlink(f"/proc/{pid}/fd/{fd}")[len("socket:[") : -1]
                for fd in os.listdir(f"/proc/{pid}/fd")
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")
            }
        except OSError:
            continue
        for table in ("tcp", "tcp6"):
            try:
                lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    found.append(f"{pid} {fields[1]}")
    return found


class Hammer:
    """Client threads calling ``/score`` on the sockets ``sockets()`` gives, until stopped.

    Each request uses the sockets current when it starts; :meth:`switch` (used as ``on_ready``)
    changes them and returns once the requests still running on the old ones have finished, as
    the workspace's router drains. ``answers`` counts the answers by their JSON text; ``failures``
    lists every refused, failed or non-200 request.
    """

    def __init__(self, info: DeploymentInfo, payload: Any, *, threads: int = 3) -> None:
        self.sockets: list[str] = [instance.socket for instance in info.instances]
        self.payload = json.dumps(payload).encode()
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self.switches: list[list[str]] = []
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(threads)]

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def switch(self, info: DeploymentInfo) -> None:
        """Route to ``info.instances`` from now on; return when nothing runs on the others."""
        new = [instance.socket for instance in info.instances]
        with self._lock:
            old = [socket for socket in self.sockets if socket not in new]
            self.sockets = new
            self.switches.append(new)
            self._lock.wait_for(lambda: all(self._in_flight[socket] == 0 for socket in old), timeout=60)

    def wait_for(self, predicate: Callable[[Counter[str]], bool], timeout: float = 30.0) -> None:
        """Wait until ``predicate(answers)`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate(self.answers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert predicate(self.answers), (self.answers, self.failures[:5])

    def _loop(self, number: int) -> None:
        count = 0
        while not self._stop.is_set():
            with self._lock:
                sockets: Sequence[str] = self.sockets
                socket = sockets[(count + number) % len(sockets)]
                self._in_flight[socket] += 1
            count += 1
            try:
                status, _, data = uds_request(socket, "POST", "/score", self.payload, JSON, timeout=30)
                if status == 200:
                    self.answers[data.decode()] += 1
                else:
                    self.failures.append(f"{socket}: {status} {data[:200]!r}")
            except OSError as exc:
                self.failures.append(f"{socket}: {type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._in_flight[socket] -= 1
                    self._lock.notify_all()
