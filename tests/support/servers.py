"""Calling the runtime's servers on their Unix sockets and finding their processes (and what they listen on)."""

from __future__ import annotations

import json
import os
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
