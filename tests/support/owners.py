"""What a workspace home leaves running: its processes and containers, the owners its runtime records,
and a Docker engine that appears at an address (:class:`Forwarder`)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import docker


class Forwarder:
    """A Unix socket at ``path`` that forwards every connection to the real Docker engine's socket
    (an engine "appearing" at an address the workspace was told about)."""

    def __init__(self, path: Path, target: str = "/var/run/docker.sock") -> None:
        self.path, self.target = path, target
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(64)
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._copy, args=(a, b), daemon=True).start()

    @staticmethod
    def _copy(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.server.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Forwarder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def home_containers(client: docker.DockerClient, home: Path) -> list[Any]:
    """Containers (running or not) of this home's runtime folder, by label."""
    return list(client.containers.list(all=True, filters={"label": f"mlep.home={home / 'runtime'}"}))


def home_processes(home: Path) -> set[int]:
    """Processes (not the workspace server) whose command line or working folder lies under ``home``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if "jupyter_mlep.workspace" in cmdline:
            continue
        if str(home) in cmdline or cwd.startswith(str(home)):
            found.add(int(entry.name))
    return found


def assert_nothing_left(home: Path, docker_client: docker.DockerClient) -> None:
    """No process under ``home`` and no container of its runtime folder is left."""
    assert home_processes(home) == set()
    assert home_containers(docker_client, home) == []


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _records(home: Path) -> Iterable[dict[str, Any]]:
    """The runtime's records of ``home`` (one ``state.json`` a deployment; one being written is skipped)."""
    for path in (home / "runtime").glob("*/state.json"):
        with contextlib.suppress(OSError, ValueError):
            yield json.loads(path.read_text())


def _recorded_owners(home: Path) -> tuple[set[int], set[str]]:
    """Launcher pids and container ids the runtime's records of ``home`` name (serving or pending)."""
    pids, containers = set(), set()
    for data in _records(home):
        for instance in [*data["instances"], *data.get("pending", [])]:
            if instance.get("launcher_pid"):
                pids.add(instance["launcher_pid"])
            if instance.get("container"):
                containers.add(instance["container"])
    return pids, containers


def _container_of(pid: int) -> str:
    """The control groups of ``pid`` (they name the container a process runs in)."""
    try:
        return Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return ""


def describe(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "(gone)"


def assert_no_unowned_process(home: Path) -> None:
    """Every process under ``home`` is a recorded launcher, runs below one, or runs in a recorded container
    (a container's processes name the deployment's socket folder under ``home``)."""
    launchers, containers = _recorded_owners(home)
    for pid in home_processes(home):
        groups = _container_of(pid)
        if any(container in groups for container in containers):
            continue
        chain, current = [], pid
        while current > 1 and current not in launchers:
            chain.append(current)
            current = _parent(current)
        assert current in launchers, (
            f"process {pid} ({describe(pid)}; ancestors {chain}) is neither below a recorded launcher "
            "nor in a recorded container"
        )


def pending_servers(home: Path) -> list[int]:
    """Server pids the runtime's records list as started by an update not switched to yet."""
    return [
        i["server_pid"] for data in _records(home) for i in data.get("pending", []) if i.get("server_pid")
    ]


def running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_with(marker: str) -> list[int]:
    """The pids (other than this test's) whose command line contains ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid()]
