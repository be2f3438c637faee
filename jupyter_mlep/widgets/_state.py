"""What a deployment status view shows, and its text, HTML and status renderings.

One plain object (:class:`DeploymentState`) fed by :func:`jupyter_mlep.operations.deploy`'s
callbacks or by a poller, drawn three ways: the one-line ``text/plain``, the static ``text/html``
and the status output (``application/vnd.jupyter-mlep.status+json``). The interactive widget
and the static display (papermill, nbconvert) both draw from it, so they always agree.
No ipywidgets here.
"""

from __future__ import annotations

import html as _html
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..operations import DEPLOY_PHASES, DeployStep
from ..rest import OperationProgress
from ..specs import OnlineDeployment

__all__ = ["TERMINAL_STATES", "DeploymentState", "PhaseState"]

TERMINAL_STATES = frozenset({"Succeeded", "Failed", "Canceled"})
"""Provisioning states after which nothing changes on its own."""

_SHOWN_PHASES = tuple(p for p in DEPLOY_PHASES if p != "traffic")
_MARKS = {"pending": "·", "running": "…", "done": "✓", "skipped": "–", "failed": "✗", "interrupted": "‖"}
_COLOURS = {"Succeeded": "#1a7f37", "Failed": "#cf222e", "Canceled": "#9a6700"}


@dataclass
class PhaseState:
    """One phase as shown: its state, a few words, and how long it took (so far)."""

    state: str = "pending"
    detail: str = ""
    elapsed: float = 0.0


@dataclass
class DeploymentState:
    """The state of one deployment as a status view shows it (thread-safe updates)."""

    endpoint: str
    deployment: str
    state: str = ""
    """The provisioning state the service reports (Creating, Updating, Succeeded, Failed, …)."""
    traffic: int | None = None
    """This deployment's share of live traffic, when known."""
    phases: dict[str, PhaseState] = field(default_factory=dict)
    error: str = ""
    log_tail: str = ""
    note: str = ""
    """A transient remark (``poll failed (1/3): …``)."""
    warnings: list[str] = field(default_factory=list)
    """What the service warned about while preparing the deployment (``DeployResult.warnings``)."""
    instance_type: str = ""
    instance_count: int | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @classmethod
    def for_deploy(cls, endpoint: str, deployment: str) -> DeploymentState:
        """A state whose phases are all pending (a deployment about to be deployed)."""
        return cls(endpoint, deployment, state="Starting", phases={p: PhaseState() for p in _SHOWN_PHASES})

    # -- updates --------------------------------------------------------------------------

    def apply_step(self, step: DeployStep) -> None:
        """A phase started, changed or ended (``operations.deploy``'s ``on_phase``)."""
        with self._lock:
            self.phases[step.phase] = PhaseState(step.state, step.detail, step.elapsed)
            if step.phase == "health" and step.state == "running" and step.detail:
                self.state = step.detail
            elif step.phase == "health" and step.state == "done":
                self.state = step.detail or "Succeeded"
            elif step.state == "failed":
                self.state = "Failed"
                self.error = self.error or step.detail
            elif self.state == "Starting" and step.state == "running":
                self.state = "Preparing"

    def apply_progress(self, update: OperationProgress) -> None:
        """A poll of the deployment's long-running operation (terminal statuses only change the state)."""
        if update.done and update.resource.rstrip("/").rsplit("/", 1)[-1].lower() == self.deployment.lower():
            with self._lock:
                self.state = update.status

    def apply_deployment(self, deployment: OnlineDeployment, traffic: int | None = None) -> None:
        """The deployment as the service reports it now."""
        with self._lock:
            state = str(deployment.provisioning_state or "")
            self.state = state or self.state
            self.instance_type = str(deployment.instance_type or "")
            self.instance_count = deployment.instance_count
            if traffic is not None:
                self.traffic = traffic
            health = self.phases.get("health")
            if health is not None and state:
                terminal = state in TERMINAL_STATES
                self.phases["health"] = PhaseState(
                    "running" if not terminal else "done" if state == "Succeeded" else "failed",
                    state,
                    time.monotonic() - self.started if health.state == "pending" else health.elapsed,
                )
            if state == "Succeeded":  # a wait that ended early: the build it waited for is over too
                environment = self.phases.get("environment")
                if environment is not None and environment.state in ("running", "interrupted"):
                    self.phases["environment"] = PhaseState("done", environment.detail, environment.elapsed)
            if state in TERMINAL_STATES:
                self.finished = self.finished or time.monotonic()

    def warn(self, warnings: list[str]) -> None:
        """Show these warnings (each once)."""
        with self._lock:
            self.warnings += [w for w in warnings if w not in self.warnings]

    def fail(self, message: str, log_tail: str = "", *, final: bool = True) -> None:
        """The operation failed: keep the error and the log tail. ``final=False``: only the wait
        ended (interrupted, timed out); the state stays the last one known."""
        with self._lock:
            if final and self.state != "Canceled":
                self.state = "Failed"
            self.error = message
            self.log_tail = log_tail or self.log_tail
            self.finished = self.finished or time.monotonic()

    def finish(self, traffic: int | None = None) -> None:
        """The operation ended (the state was already set)."""
        with self._lock:
            if traffic is not None:
                self.traffic = traffic
            self.finished = self.finished or time.monotonic()

    @property
    def done(self) -> bool:
        """True once the state is terminal."""
        return self.state in TERMINAL_STATES

    @property
    def elapsed(self) -> float:
        """Seconds from the start to the end (or to now)."""
        return (self.finished or time.monotonic()) - self.started

    # -- renderings -----------------------------------------------------------------------

    def _current_phase(self) -> str:
        running = [name for name, p in self.phases.items() if p.state == "running"]
        return running[-1] if running else ""

    def text(self) -> str:
        """One line: endpoint, deployment, state, traffic (and the running phase or the error)."""
        with self._lock:
            return self._text()

    def _text(self) -> str:
        parts = [f"Deployment {self.deployment} of {self.endpoint}: {self.state or 'unknown'}"]
        if self.traffic is not None:
            parts.append(f"traffic {self.traffic}%")
        if self.instance_count is not None and self.instance_type:
            parts.append(f"{self.instance_count} × {self.instance_type}")
        if self.phases:
            phase = self._current_phase()
            parts.append(
                f"{phase} ({self.elapsed:.1f} s)" if phase and not self.done else f"{self.elapsed:.1f} s"
            )
        line = ", ".join(parts)
        if self.warnings:
            line += f", {len(self.warnings)} warning(s)"
        if self.error:
            line += f" — {self.error.splitlines()[0]}"
        return line

    def phase_line(self) -> str:
        """The phases in one line: ``endpoint – upload ✓ environment ✓ deployment ✓ health …``."""
        return "  ".join(f"{name} {_MARKS.get(p.state, '?')}" for name, p in self.phases.items())

    def html(self) -> str:
        """A static HTML card: title, phases table, error and log tail."""
        with self._lock:
            return self._html()

    def _html(self) -> str:
        esc = _html.escape
        colour = _COLOURS.get(self.state, "#0969da")
        title = (
            f"<b>{esc(self.deployment)}</b> of <b>{esc(self.endpoint)}</b>: "
            f'<span class="mlep-state" style="color:{colour};font-weight:bold">{esc(self.state or "unknown")}</span>'
        )
        facts = []
        if self.traffic is not None:
            facts.append(f"traffic {self.traffic}%")
        if self.instance_count is not None and self.instance_type:
            facts.append(f"{self.instance_count} × {esc(self.instance_type)}")
        if self.phases:
            facts.append(f"{self.elapsed:.1f} s")
        parts = [f'<div class="mlep-status-card"><div>{title}' + (f" · {' · '.join(facts)}" if facts else "")]
        parts.append("</div>")
        if self.phases:
            parts.append('<table class="mlep-phases"><tbody>')
            for name, phase in self.phases.items():
                elapsed = f"{phase.elapsed:.1f} s" if phase.state not in ("pending", "skipped") else ""
                parts.append(
                    f"<tr><td>{_MARKS.get(phase.state, '?')}</td><td>{esc(name)}</td><td>{esc(phase.state)}</td>"
                    f"<td>{esc(phase.detail)}</td><td>{elapsed}</td></tr>"
                )
            parts.append("</tbody></table>")
        if self.note:
            parts.append(f'<div class="mlep-note">{esc(self.note)}</div>')
        for warning in self.warnings:
            parts.append(f'<div class="mlep-warning" style="color:#9a6700">⚠ {esc(warning)}</div>')
        if self.error:
            parts.append(f'<div class="mlep-error" style="color:#cf222e">{esc(self.error)}</div>')
        if self.log_tail:
            parts.append(
                "<details open><summary>Last lines of the deployment log</summary>"
                f'<pre class="mlep-log-tail">{esc(self.log_tail.rstrip())}</pre></details>'
            )
        return "".join(parts) + "</div>"

    def status(self) -> dict[str, Any]:
        """The status output (``kind: deployment``): what recipes and tests assert on."""
        with self._lock:
            return self._status()

    def _status(self) -> dict[str, Any]:
        return {
            "kind": "deployment",
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "state": self.state,
            "traffic": self.traffic,
            "instance_type": self.instance_type or None,
            "instance_count": self.instance_count,
            "phases": {
                name: {"state": p.state, "detail": p.detail, "elapsed": round(p.elapsed, 3)}
                for name, p in self.phases.items()
            },
            "elapsed": round(self.elapsed, 3),
            "error": self.error or None,
            "log_tail": self.log_tail or None,
            "warnings": list(self.warnings),
        }

    def mimebundle(self) -> dict[str, Any]:
        """Text, HTML and the status output (one consistent snapshot)."""
        from ..rendering import STATUS_MIME

        with self._lock:
            return {"text/plain": self.text(), "text/html": self.html(), STATUS_MIME: self.status()}
