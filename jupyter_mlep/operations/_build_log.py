"""Reading a deployment's storage-initializer log during a deploy: where the environment build is
(its ``environment …: building`` / ``ready`` / ``reusing`` lines and the package manager's milestones
in between) and the ``warning: …`` lines this deploy wrote. :func:`~jupyter_mlep.operations.deploy`
polls it to drive its ``environment`` and ``health`` phases and to fill ``DeployResult.warnings``.
"""

from __future__ import annotations

import re
import time

from .._errors import RestError
from ..rest import RestClient
from ._deployments import get_logs

__all__ = ["StorageLog"]


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (.*)$")
_BUILDING = re.compile(r"^environment \S+: building (.*?)(?: (?:in|\(log:) .*)?$")
_BUILT = re.compile(r"^environment \S+: (ready in .*|reusing .*|image \S+ ready)$")
_MILESTONE = re.compile(
    r"^\s+(Resolved \d.*|Prepared \d.*|Installed \d.*|Successfully installed.*|Step \d+/\d+.*)"
)
_WARNING = re.compile(r"^warning: (.+)$")


class StorageLog:
    """What the deployment's storage-initializer log says about this deploy: where the environment
    build is, and the warnings (lines written since ``since``, local time to the second)."""

    INTERVAL = 1.0
    """Seconds between two reads while the deploy waits (a read is one request)."""

    def __init__(self, client: RestClient, endpoint: str, name: str, since: str) -> None:
        self.client, self.endpoint, self.name, self.since = client, endpoint, name, since
        self.build = ""  # "", "running" or "done"
        self.detail = ""
        self.done_at = ""  # the stamp of the line saying the build is over
        self.warnings: list[str] = []
        self.readable = True
        self._last = 0.0

    def read(self, *, throttle: bool = False) -> None:
        """Read the log's end again (at most once per :attr:`INTERVAL` with ``throttle``)."""
        now = time.monotonic()
        if not self.readable or (throttle and now - self._last < self.INTERVAL):
            return
        self._last = now
        try:
            text = get_logs(self.client, self.endpoint, self.name, lines=400, container="storage-initializer")
        except RestError:
            self.readable = False  # a service without this log: the phases go on without it
            return
        warnings: list[str] = []
        for line in text.splitlines():
            stamped = _STAMP.match(line)
            if stamped is None:
                continue
            stamp, said = stamped.groups()
            if stamp < self.since:
                continue
            if (built := _BUILT.match(said)) is not None:
                self.build, self.detail, self.done_at = "done", built.group(1), stamp
            elif (building := _BUILDING.match(said)) is not None:
                self.build, self.detail = "running", f"building {building.group(1)}"
            elif self.build == "running" and (step := _MILESTONE.match(said)) is not None:
                self.detail = step.group(1)
            elif (warning := _WARNING.match(said)) is not None and warning.group(1) not in warnings:
                warnings.append(warning.group(1))
        self.warnings = warnings

    def done_ago(self) -> float:
        """Seconds since the log said the build is over (0 when it did not say when)."""
        if not self.done_at:
            return 0.0
        try:
            said = time.mktime(time.strptime(self.done_at, "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            return 0.0
        return max(0.0, time.time() - said)
