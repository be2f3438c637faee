"""Debug deployments on the local workspace: ask for a debugpy listener, say how to attach.

``deploy --debug`` adds the local-only deployment property ``mlep.debug`` (``PORT`` or
``PORT,wait``); the workspace then starts the deployment's server with a debugpy listener on
``127.0.0.1:PORT``, one worker, no scoring timeout, and records where the server sees its code
(``mlep.debug.remoteRoot``). A target without the ``debugger`` capability never receives the
property: :func:`check_debug_target` refuses the deployment before anything is uploaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .._errors import UsageError
from ..rendering import Result
from ..rest import RestClient
from ..specs import OnlineDeployment

__all__ = [
    "DEBUG_PROPERTY",
    "DEFAULT_DEBUG_PORT",
    "DebugAttach",
    "check_debug_target",
    "debug_attach",
    "with_debugger",
]

#: The local-only deployment property asking for a debugger (``PORT`` or ``PORT,wait``).
DEBUG_PROPERTY = "mlep.debug"
#: The property the local workspace sets: the code folder as the server sees it.
REMOTE_ROOT_PROPERTY = "mlep.debug.remoteRoot"
#: debugpy's customary port.
DEFAULT_DEBUG_PORT = 5678
_LOCAL_ONLY = (DEBUG_PROPERTY, REMOTE_ROOT_PROPERTY)


def with_debugger(spec: OnlineDeployment, port: int | None = None, *, wait: bool = False) -> OnlineDeployment:
    """``spec`` asking for a debugpy listener on ``127.0.0.1:port`` (default 5678), waiting for a
    client before ``init()`` when ``wait``."""
    port = DEFAULT_DEBUG_PORT if port is None else port
    if not 1024 <= port <= 65535:
        raise UsageError(f"--debug port {port} is not from 1024 to 65535.", hint="E.g. --debug 5678")
    if (spec.instance_count or 1) > 1:
        raise UsageError(
            f"A debug deployment runs one instance; {spec.name!r} asks for {spec.instance_count}.",
            hint="Deploy with --instance-count 1 while debugging.",
        )
    return spec.with_properties({DEBUG_PROPERTY: f"{port},wait" if wait else str(port)})


def check_debug_target(client: RestClient, spec: OnlineDeployment) -> None:
    """Refuse a deployment asking for a debugger on a target that cannot run one (before any upload)."""
    asked = [key for key in (spec.properties or {}) if key in _LOCAL_ONLY]
    if asked and not client.capabilities.debugger:
        raise UsageError(
            f"Deployment {spec.name!r} asks for a debugger ({', '.join(asked)}), which only a deployment "
            "running on this machine can have: this target runs it in Azure, where no local debugger "
            "can reach its server (and the property would be sent to Azure).",
            hint="Debug it on the local workspace (%mlep use local, then %endpoint deploy … --debug), "
            "or deploy here without --debug.",
        )


@dataclass(repr=False)
class DebugAttach(Result):
    """How to attach a debugger to a debug deployment: port, path mappings and the steps."""

    kind: ClassVar[str] = "debug"

    endpoint: str
    deployment: str
    port: int
    wait: bool
    local_root: str
    remote_root: str

    def launch_configuration(self) -> dict[str, Any]:
        """The VS Code ``launch.json`` configuration that attaches to the deployment."""
        return {
            "name": f"Attach to {self.endpoint}/{self.deployment}",
            "type": "debugpy",
            "request": "attach",
            "connect": {"host": "127.0.0.1", "port": self.port},
            "pathMappings": [{"localRoot": self.local_root, "remoteRoot": self.remote_root}],
            "justMyCode": True,
        }

    def lines(self) -> list[str]:
        """The attach instructions, one line each."""
        waiting = (
            "it waits for a debugger before init() runs"
            if self.wait
            else "it does not wait (attach any time; breakpoints in init() need --debug-wait)"
        )
        return [
            f"Debugger: debugpy listens on 127.0.0.1:{self.port} (loopback only); {waiting}.",
            "The scoring timeout is lifted while debugging (an hour): a request held at a breakpoint "
            "is not cut by the server or the router.",
            "VS Code: add this configuration to .vscode/launch.json, then Run > Start Debugging:",
            json.dumps(self.launch_configuration(), indent=2),
            f"Python (debugpy's client): connect a DAP client to 127.0.0.1:{self.port}, send 'attach', "
            "'setBreakpoints' for score.py, 'configurationDone'; then send a request "
            f"(%endpoint invoke {self.endpoint} --deployment {self.deployment} …).",
            "JupyterLab: attach VS Code (or any DAP client) as above; the kernel's debugger debugs the "
            "kernel, not the server: use %%score_script … --test --in-kernel to step through the script "
            "in the notebook itself.",
        ]

    def text(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "port": self.port,
            "wait": self.wait,
            "launch": self.launch_configuration(),
        }


def debug_attach(endpoint: str, spec: OnlineDeployment, served: OnlineDeployment) -> DebugAttach | None:
    """The attach instructions of a deployed ``spec`` (``served``: as the service answered), or None."""
    asked = str((spec.properties or {}).get(DEBUG_PROPERTY) or "")
    if not asked:
        return None
    port, _, mode = asked.partition(",")
    code = spec.code_configuration.code if spec.code_configuration else None
    local = str(Path(code).resolve()) if isinstance(code, Path) else "${workspaceFolder}"
    remote = str((served.properties or {}).get(REMOTE_ROOT_PROPERTY) or local)
    return DebugAttach(
        endpoint=endpoint,
        deployment=spec.name,
        port=int(port),
        wait=mode.strip().lower() == "wait",
        local_root=local,
        remote_root=remote,
    )
