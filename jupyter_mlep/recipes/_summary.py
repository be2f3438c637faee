"""Reading an executed recipe: its status outputs, the step that failed, and a short summary.

A *step* is what a reader of the notebook calls a part of it: the ``step=NAME`` tag of a cell
when it has one, else the nearest markdown heading above the cell, else ``cell N``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..operations import format_split
from ..rendering import STATUS_MIME

__all__ = [
    "CLEANUP_TAG",
    "RecipeFailure",
    "StatusOutput",
    "describe_status",
    "read_outcome",
    "running_step",
    "step_of",
]

CLEANUP_TAG = "cleanup"
"""Cells with this tag run even after an earlier cell failed (when run by :func:`run_recipe`)."""
_PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class StatusOutput:
    """One machine-readable status output of the executed notebook."""

    cell: int
    """Index of the cell in the executed notebook."""
    step: str
    status: dict[str, Any]

    @property
    def kind(self) -> str:
        """The result's kind: deploy, invoke, traffic, rollout, …"""
        return str(self.status.get("kind", "?"))


@dataclass(frozen=True)
class RecipeFailure:
    """The first cell that failed: its step, and the error's class name and message."""

    step: str
    cell: int
    ename: str
    evalue: str
    source: str = ""
    cleanup_errors: list[str] = field(default_factory=list)
    """Errors of clean-up cells that ran after the failure (``ename: evalue``)."""

    def __str__(self) -> str:
        return f"step {self.step!r} failed: {self.ename}: {self.evalue}"


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def step_of(cells: list[Any], index: int) -> str:
    """The step of ``cells[index]``: its ``step=`` tag, else the nearest heading above, else ``cell N``."""
    for tag in _tags(cells[index]):
        if tag.startswith("step="):
            return tag.partition("=")[2].strip()
    for cell in reversed(cells[: index + 1]):
        if cell.get("cell_type") != "markdown" or _PAPERMILL_ERROR_TAG in _tags(cell):
            continue
        headings = _HEADING.findall(str(cell.get("source", "")))
        if headings:
            return str(headings[-1]).strip()
    number = sum(1 for c in cells[:index] if _PAPERMILL_ERROR_TAG not in _tags(c)) + 1
    return f"cell {number}"


def _error_outputs(cell: Any) -> list[Any]:
    return [
        output
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
        and not (output.get("ename") == "SystemExit" and output.get("evalue") in ("", "0"))
    ]


def read_outcome(path: Path) -> tuple[list[StatusOutput], RecipeFailure | None]:
    """The status outputs and the first failure of an executed notebook."""
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    cells = list(notebook.cells)
    statuses: list[StatusOutput] = []
    failure: RecipeFailure | None = None
    cleanup_errors: list[str] = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or _PAPERMILL_ERROR_TAG in _tags(cell):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if STATUS_MIME in data and isinstance(data[STATUS_MIME], dict):
                statuses.append(StatusOutput(index, step_of(cells, index), dict(data[STATUS_MIME])))
        errors = _error_outputs(cell)
        failed = bool(errors) or cell.get("metadata", {}).get("papermill", {}).get("exception") is True
        if not failed:
            continue
        ename = str(errors[0].get("ename", "Error")) if errors else "CellExecutionError"
        evalue = _ANSI.sub("", str(errors[0].get("evalue", ""))) if errors else "(no error output)"
        if failure is None:
            failure = RecipeFailure(step_of(cells, index), index, ename, evalue, str(cell.get("source", "")))
        else:
            cleanup_errors.append(f"{step_of(cells, index)}: {ename}: {evalue}")
    if failure is not None and cleanup_errors:
        failure.cleanup_errors.extend(cleanup_errors)
    return statuses, failure


def running_step(path: Path) -> tuple[str, int]:
    """The step and index of the cell that was running when a timeout or a dead kernel stopped the run."""
    import nbformat

    cells = list(nbformat.read(str(path), as_version=4).cells)  # type: ignore[no-untyped-call]
    for index, cell in enumerate(cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") in ("running", "failed"):
            return step_of(cells, index), index
    return "(kernel)", -1


def _split(values: Any) -> str:
    return format_split(values if isinstance(values, dict) else None)


def _short(value: Any, limit: int = 80) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_status(status: dict[str, Any]) -> str:
    """One line for a status output (the kinds the operations produce; others generically)."""
    kind = status.get("kind")
    if kind == "deploy":
        deployment = status.get("deployment") or {}
        name = deployment.get("name", "?") if isinstance(deployment, dict) else deployment
        state = deployment.get("provisioning_state", "") if isinstance(deployment, dict) else ""
        line = f"deployed {name} to {status.get('endpoint')}: {state or 'done'} in {status.get('elapsed', 0):.1f} s"
        if status.get("traffic") is not None:
            line += f" (traffic {_split(status.get('traffic'))})"
        return line
    if kind == "deployment":
        line = f"deployment {status.get('deployment')} of {status.get('endpoint')}: {status.get('state')}"
        if status.get("error"):
            line += f": {_short(status.get('error'), 120)}"
        return line
    if kind == "invoke":
        who = f" from {status['deployment']}" if status.get("deployment") else ""
        elapsed = float(status.get("elapsed") or 0) * 1000
        return f"invoke: {status.get('status')}{who} in {elapsed:.0f} ms: {_short(status.get('body'))}"
    if kind == "traffic":
        line = f"traffic of {status.get('endpoint')}: {_split(status.get('traffic'))}"
        if status.get("mirror_traffic"):
            line += f", mirror {_split(status.get('mirror_traffic'))}"
        return line
    if kind == "endpoint":
        deployments = [d.get("name") for d in status.get("deployments", []) if isinstance(d, dict)]
        return (
            f"endpoint {status.get('name')}: {status.get('provisioning_state', '')}, "
            f"traffic {_split(status.get('traffic'))}, deployments {', '.join(map(str, deployments)) or 'none'}"
        )
    if kind == "rollout":
        verdict = str(status.get("verdict") or status.get("outcome") or status.get("state") or "done")
        if status.get("rolled_back"):
            verdict += ", rolled back"
        line = f"rollout of {status.get('deployment')} on {status.get('endpoint')}: {verdict}"
        if status.get("traffic") is not None:
            line += f" (traffic {_split(status.get('traffic'))})"
        reason = status.get("reason") or status.get("message")
        return line + (f": {_short(reason, 120)}" if reason else "")
    if kind == "logs":
        content = str(status.get("content") or "")
        return f"logs of {status.get('deployment')}: {len(content.splitlines())} line(s)"
    if kind == "keys":
        return f"keys of {status.get('endpoint')} (masked)"
    if kind == "endpoints":
        return f"{len(status.get('endpoints', []))} endpoint(s)"
    if kind == "job":
        line = f"job {status.get('name')}: {status.get('status')}"
        if status.get("duration"):
            line += f" in {float(status['duration']):.1f} s"
        return line + (f": {_short(status.get('error'), 120)}" if status.get("error") else "")
    if kind == "job-metrics":
        metrics = status.get("metrics") or {}
        last = [
            f"{key} {points[-1]['value']:.4g}"
            for key, points in metrics.items()
            if isinstance(points, list) and points and isinstance(points[-1].get("value"), (int, float))
        ]
        return (
            f"metrics of job {status.get('name')}: {', '.join(last) or 'none'} (last values), "
            f"{len(status.get('params') or {})} parameter(s)"
        )
    if kind == "model":
        origin = f"job {status['job']}" if status.get("job") else _short(status.get("path"), 60)
        return (
            f"model azureml:{status.get('name')}:{status.get('version')} ({status.get('type')}) from {origin}"
        )
    if kind == "sweep":
        trials = status.get("trials") or []
        stopped = sum(1 for trial in trials if isinstance(trial, dict) and trial.get("reason"))
        line = (
            f"sweep {status.get('name')}: {status.get('status')}, {len(trials)} trial(s), {stopped} stopped"
        )
        if status.get("best"):
            line += f"; best {status['best']} ({status.get('metric')} {status.get('score')})"
        return line
    if kind == "job-outputs":
        files = status.get("files") or {}
        count = sum(len(paths) for paths in files.values() if isinstance(paths, list))
        return f"outputs of job {status.get('name')}: {count} file(s) downloaded"
    fields = ", ".join(
        f"{k}={_short(v, 40)}" for k, v in status.items() if k != "kind" and not isinstance(v, dict)
    )
    return f"{kind}: {fields}" if fields else str(kind)
