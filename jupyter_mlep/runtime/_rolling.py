"""Rolling updates: the new servers start beside the old ones, and the old ones stop only after the switch.

For each instance the update needs either a new server forked from the instance's warm launcher
(code, scoring script, model, request settings: the fast path, about the cost of ``init()``) or a
new launcher (a process or a container: environment, environment variables, probes, and in Docker
the mounted code and model). Scaling up adds instances beside the running ones; scaling down keeps
the first ones. Once every server that must serve is ready, ``on_ready`` receives them (the caller
switches its routing and drains the others), then the servers no longer listed are stopped.

When a new server does not become ready, what the update started is stopped, the record keeps
describing the old servers (and the old spec), and the error is raised: the old servers never
stopped serving. While it runs, the record lists what the update started under ``pending``, so
an interrupted update leaves nothing that no one owns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._base import DeploymentInfo, OnReady
from ._spec import DeploymentSpec
from ._state import DeploymentRecord, InstanceRecord

if TYPE_CHECKING:
    from ._engine import LauncherBackend

__all__ = ["Rollout", "code_stamp"]

_STOP_GRACE = 2.0  # seconds a replaced server gets to finish (its requests were drained already)


class Rollout:
    """One rolling update of a running deployment (see the module docstring)."""

    def __init__(
        self,
        backend: LauncherBackend,
        record: DeploymentRecord,
        spec: DeploymentSpec,
        on_ready: OnReady | None,
    ) -> None:
        self.backend = backend
        self.record = record
        self.spec = spec
        self.on_ready = on_ready
        self.log = backend._storage_log(record)

    def run(self) -> DeploymentInfo:
        """Start what the change needs, wait until ready, switch, stop the old; the new state."""
        backend, record, spec = self.backend, self.record, self.spec
        prepared = backend._prepare(spec.environment, self.log)  # a failed build changes nothing
        new = backend._fingerprint(spec, prepared.key)
        old = list(record.instances)
        relaunch = backend._needs_new_launcher(record.spec, new)
        changed = any(new[key] != record.spec.get(key) for key in new if key != "instance_count")
        # Only a change of the instance count alone keeps the running servers: an update that
        # keeps the count restarts them all (a redeploy), like Azure.
        respawn = relaunch or changed or spec.instance_count == len(old)
        self.log.write(f"deployment {spec.key}: {self._describe(relaunch, respawn, len(old))}", report=True)
        serving: list[InstanceRecord] = []
        backend._retire(record.pending, record.instances, grace=0.0)  # left by an update killed midway
        record.pending = []
        try:
            for index in range(spec.instance_count):
                if index < len(old) and not respawn:
                    serving.append(old[index])  # scaling only: the running instance stays
                    continue
                if index < len(old) and not relaunch:
                    # The same launcher, a new server: listed without the old server's identity, so
                    # an owner finding this update interrupted never stops the server still serving.
                    instance = dataclasses.replace(old[index], server="", socket="", server_pid=None)
                    record.pending.append(instance)
                    record.save()
                    backend._spawn(spec, prepared, record, instance, current=False)
                    record.save()
                else:
                    instance = backend._new_instance(record, index)
                    record.pending.append(instance)
                    backend._start_instance(spec, prepared, record, instance, current=False)
                serving.append(instance)
            backend._await_ready(record, record.pending, new["readiness_probe"])
            if self.on_ready is not None:
                self.on_ready(backend._serving_info(record, serving, prepared.key))
        except BaseException as exc:
            self._abandon(exc)
            raise
        fresh = list(record.pending)
        retired = [instance for instance in old if all(instance.server != s.server for s in serving)]
        record.instances, record.pending = serving, retired  # until they are stopped
        record.spec, record.environment = new, prepared.key
        record.state, record.message = "Running", ""
        record.save()
        for instance in serving:
            backend._point_log(instance)
        backend._retire(retired, serving, grace=_STOP_GRACE)
        record.pending = []
        record.save()
        backend._warm(record, fresh)
        self.log.write(f"deployment {spec.key}: updated ({len(serving)} instance(s) serving)")
        return backend._info(record)

    def _abandon(self, exc: BaseException) -> None:
        """Stop what this update started; the old servers and the record's old spec stay."""
        record = self.record
        self.backend._retire(record.pending, record.instances, grace=0.0)
        record.pending = []
        record.save()
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        self.log.write(
            f"deployment {self.spec.key}: update failed, the previous servers keep serving: {message}"
        )

    def _describe(self, relaunch: bool, respawn: bool, running: int) -> str:
        count = self.spec.instance_count
        scale = f", {running} -> {count} instance(s)" if count != running else ""
        if relaunch:
            return f"rolling update: new instances beside the running ones{scale}"
        if respawn:
            return f"rolling update: new servers from the running launchers{scale}"
        if count > running:
            return f"scaling up{scale}"
        return f"scaling down{scale}"


def code_stamp(folder: Path, limit: int = 20000) -> str:
    """A digest of the names, sizes and modification times of the files below ``folder``.

    Cheap (no file is read): it tells whether code changed in place between two updates. Past
    ``limit`` files the rest is not looked at.
    """
    digest = hashlib.sha256()
    seen = 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            seen += 1
            if seen > limit:
                return digest.hexdigest()[:16]
            with contextlib.suppress(OSError):
                stat = os.stat(os.path.join(root, name))
                relative = os.path.relpath(os.path.join(root, name), folder)
                digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
