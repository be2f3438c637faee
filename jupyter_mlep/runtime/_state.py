"""State records of running deployments, one JSON file per deployment under ``$MLEP_HOME/runtime``.

A record names the backend, the environment, and per instance its launcher (id, control socket,
pid and start time, or container id) and its current server (id, socket, pid), so a new runtime
object finds what runs. ``pending`` lists what an update started and has not switched to yet (so
that it can be stopped even when the update was interrupted).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._spec import DeploymentSpec

__all__ = ["DeploymentRecord", "InstanceRecord", "deployment_dir", "load_records", "spec_fingerprint"]


@dataclass
class InstanceRecord:
    """One running instance: its launcher (process or container) and its current server.

    ``dir`` (``i<index>``) holds the instance's logs across launchers and servers; ``launcher``
    and ``server`` are unique ids, so sockets and logs of two generations never collide.
    """

    index: int
    dir: str
    launcher: str = ""
    control: str = ""
    server: str = ""
    socket: str = ""
    launcher_pid: int | None = None
    launcher_start: int | None = None
    container: str | None = None
    server_pid: int | None = None


@dataclass
class DeploymentRecord:
    """What the runtime started for one deployment."""

    backend: str
    endpoint: str
    name: str
    dir: str
    environment: str = ""
    state: str = "Creating"
    message: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    instances: list[InstanceRecord] = field(default_factory=list)
    pending: list[InstanceRecord] = field(default_factory=list)

    @property
    def path(self) -> Path:
        """The record's JSON file."""
        return Path(self.dir) / "state.json"

    def save(self) -> None:
        """Write the record atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        """Delete the record and its folder (logs, sockets, model links)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    def load(cls, path: Path) -> DeploymentRecord | None:
        """Read a record; None when it is missing or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            instances = [InstanceRecord(**item) for item in data.pop("instances", [])]
            pending = [InstanceRecord(**item) for item in data.pop("pending", [])]
            return cls(**data, instances=instances, pending=pending)
        except (OSError, ValueError, TypeError):
            return None


def deployment_dir(runtime_dir: Path, endpoint: str, name: str) -> Path:
    """The folder of a deployment (short: its name also names the deployment's socket folder)."""
    digest = hashlib.sha256(f"{endpoint}/{name}".encode()).hexdigest()[:12]
    return runtime_dir / digest


def load_records(runtime_dir: Path, backend: str) -> list[DeploymentRecord]:
    """Every record of ``backend`` under ``runtime_dir``."""
    records = []
    for path in sorted(runtime_dir.glob("*/state.json")):
        record = DeploymentRecord.load(path)
        if record is not None and record.backend == backend:
            records.append(record)
    return records


def spec_fingerprint(spec: DeploymentSpec, environment: str) -> dict[str, Any]:
    """What of a spec decides how an update is applied (paths, variables, settings, environment)."""
    return {
        "environment": environment,
        "model": str(spec.model.resolve()) if spec.model else None,
        "code": str(Path(spec.code).resolve()),
        "scoring_script": spec.scoring_script,
        "environment_variables": dict(spec.environment_variables),
        "request_timeout_ms": spec.request_timeout_ms,
        "workers": spec.max_concurrent_requests_per_instance,
        "instance_count": spec.instance_count,
        "readiness_probe": asdict(spec.readiness_probe),
    }
