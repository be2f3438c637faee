"""What the job operations return: one job (:class:`JobDetails`) and a list of jobs (:class:`JobList`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

from ..rendering import Result, Table, TableResult

__all__ = [
    "PHASES",
    "TERMINAL_STATUSES",
    "JobDetails",
    "JobList",
    "JobLogs",
    "JobMetrics",
    "JobOutputs",
    "RegisteredModel",
]

TERMINAL_STATUSES = ("Completed", "Failed", "Canceled")
"""The statuses after which a job never changes again."""

PHASES = ("Queued", "Preparing", "Running", "Finalizing")
"""The phases a job goes through before it ends (each status maps to one of them)."""

_PHASE_OF = {
    "NotStarted": "",
    "Queued": "Queued",
    "Starting": "Preparing",
    "Provisioning": "Preparing",
    "Preparing": "Preparing",
    "Running": "Running",
    "Finalizing": "Finalizing",
}

_HEAD = ["name", "type", "status", "experiment", "created", "duration"]


def _error_text(props: dict[str, Any]) -> str:
    """The message of the job's error (``properties.error``, an ``ErrorResponse`` or its ``error``)."""
    error = props.get("error") or {}
    if isinstance(error, dict):
        error = error.get("error") or error
        return str(error.get("message") or "") if isinstance(error, dict) else ""
    return str(error)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def job_phases(
    status: str, history: list[dict[str, Any]], now: datetime | None = None
) -> list[dict[str, Any]]:
    """The phases of a job (:data:`PHASES`, then its end) with their state and times.

    Each is ``{"phase", "state", "started", "seconds"}``: ``state`` is ``done``, ``active``,
    ``pending``, ``skipped``, or ``failed``/``canceled`` (the phase the job ended in); ``started`` is
    when it was entered (ISO, or ``""``) and ``seconds`` how long it lasted (or has lasted so far).
    ``history`` is run history's ``statusHistory`` (``{"status", "timeUtc"}``); without it (Azure's
    run history has none) the phases are derived from ``status`` alone, without times.
    """
    now = now or datetime.now(timezone.utc)
    ended = status in TERMINAL_STATUSES
    entered: dict[str, datetime | None] = {}
    left: dict[str, datetime | None] = {}
    last_phase = final_phase = ""
    for item in history:
        name, when = str(item.get("status")), _time(item.get("timeUtc") or item.get("time"))
        phase = _PHASE_OF.get(name, "")
        if not phase and name not in TERMINAL_STATUSES:
            continue  # NotStarted, CancelRequested: no phase of their own
        if last_phase and phase != last_phase and last_phase not in left:
            left[last_phase] = when
        if name in TERMINAL_STATUSES:
            final_phase, last_phase = last_phase, ""
            continue
        entered.setdefault(phase, when)
        last_phase = phase
    current = _PHASE_OF.get(status, "")
    if not history and current:  # no history: the phases before the current one are done
        for phase in PHASES[: PHASES.index(current) + 1]:
            entered.setdefault(phase, None)
            if phase != current:
                left.setdefault(phase, None)
    end = _time(next((i.get("timeUtc") for i in reversed(history) if i.get("status") == status), None))
    phases: list[dict[str, Any]] = []
    for phase in PHASES:
        if phase not in entered:
            state = "skipped" if ended or _later(current, phase, entered) else "pending"
            phases.append({"phase": phase, "state": state, "started": "", "seconds": None})
            continue
        start = entered[phase]
        stop = left.get(phase) if phase in left else (end if ended else None)
        if ended and status != "Completed" and phase == (final_phase or current):
            state = "failed" if status == "Failed" else "canceled"
        elif phase in left or ended:
            state = "done"
        else:
            state = "active" if phase == current else "done"
        seconds = _seconds(start, stop if (phase in left or ended) else now)
        phases.append(
            {
                "phase": phase,
                "state": state,
                "started": start.isoformat() if start else "",
                "seconds": seconds,
            }
        )
    phases.append(
        {
            "phase": status if ended else "End",
            "state": ("done" if status == "Completed" else status.lower()) if ended else "pending",
            "started": end.isoformat() if ended and end else "",
            "seconds": None,
        }
    )
    return phases


def _later(current: str, phase: str, entered: dict[str, datetime | None]) -> bool:
    """Whether a phase after ``phase`` was already entered (``phase`` was skipped)."""
    index = PHASES.index(phase)
    return any(PHASES.index(other) > index for other in entered) or (
        current in PHASES and PHASES.index(current) > index
    )


def _phase_row(item: dict[str, Any]) -> list[str]:
    seconds = item["seconds"]
    return [
        item["phase"],
        item["state"],
        str(item["started"])[11:19],
        "" if seconds is None else f"{seconds:.1f} s",
    ]


@dataclass(repr=False)
class JobDetails(TableResult):
    """One job: what it runs, where, its status and times, its inputs and outputs, its error."""

    kind: ClassVar[str] = "job"

    name: str
    job_type: str
    status: str
    experiment: str = "Default"
    display_name: str = ""
    compute: str = ""
    command: str = ""
    created: str = ""
    started: str = ""
    ended_at: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    studio_url: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    """Every status the job went through, with its time (``{"status", "timeUtc"}``), when known."""
    metrics: JobMetrics | None = None
    """The metrics and parameters the job logged, when they were read (:meth:`with_metrics`)."""

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> JobDetails:
        """A job from its REST ``JobBase``."""
        props = body.get("properties") or {}
        services = props.get("services") or {}
        return cls(
            name=str(body.get("name") or ""),
            job_type=str(props.get("jobType") or ""),
            status=str(props.get("status") or "NotStarted"),
            experiment=str(props.get("experimentName") or "Default"),
            display_name=str(props.get("displayName") or ""),
            compute=str(props.get("computeId") or "").rsplit("/", 1)[-1],
            command=str(props.get("command") or ""),
            created=str((body.get("systemData") or {}).get("createdAt") or ""),
            started=str(props.get("startTimeUtc") or ""),
            ended_at=str(props.get("endTimeUtc") or ""),
            inputs=dict(props.get("inputs") or {}),
            outputs=dict(props.get("outputs") or {}),
            error=_error_text(props),
            studio_url=str((services.get("Studio") or {}).get("endpoint") or ""),
            tags={str(k): str(v) for k, v in (props.get("tags") or {}).items()},
        )

    def with_run(self, details: dict[str, Any]) -> JobDetails:
        """This job with what its run history adds: start and end times, the error, the statuses."""
        return replace(
            self,
            started=str(details.get("startTimeUtc") or self.started),
            ended_at=str(details.get("endTimeUtc") or self.ended_at),
            error=_error_text(details) or self.error,
            history=[dict(item) for item in details.get("statusHistory") or []],
        )

    def with_metrics(self, metrics: JobMetrics | None) -> JobDetails:
        """This job with the metrics and parameters it logged (drawn as a table and charts)."""
        return replace(self, metrics=metrics)

    def phases(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """The job's phases with their state and times (see :func:`job_phases`)."""
        return job_phases(self.status, self.history, now)

    @property
    def ended(self) -> bool:
        """True once the job is ``Completed``, ``Failed`` or ``Canceled``."""
        return self.status in TERMINAL_STATUSES

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None until both are known)."""
        return _seconds(_time(self.started), _time(self.ended_at))

    def row(self) -> list[str]:
        """The job's line in a list of jobs."""
        duration = self.duration
        return [
            self.name,
            self.job_type,
            self.status,
            self.experiment,
            self.created[:19].replace("T", " "),
            "" if duration is None else f"{duration:.1f} s",
        ]

    def title(self) -> str:
        return f"Job {self.name}: {self.status}"

    def tables(self) -> list[Table]:
        tables: list[Table] = [(_HEAD, [self.row()])]
        io = [["input", key, _io_value(value)] for key, value in self.inputs.items()]
        io += [["output", key, _io_value(value)] for key, value in self.outputs.items()]
        if io:
            tables.append((["", "name", "value or URI"], io))
        if self.history:
            tables.append((["phase", "state", "started", "duration"], [_phase_row(p) for p in self.phases()]))
        if self.metrics is not None:
            tables += self.metrics.tables()
        return tables

    def footer(self) -> list[tuple[str, bool]]:
        lines: list[tuple[str, bool]] = []
        if self.error:
            lines.append((f"Error: {self.error}", True))
        if self.command:
            lines.append((f"Command: {self.command}", False))
        return lines

    def html(self) -> str:
        if self.metrics is None:
            return super().html()
        from ..charts import metric_charts_html

        return super().html()[: -len("</div>")] + metric_charts_html(self.metrics.metrics) + "</div>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.job_type,
            "status": self.status,
            "experiment": self.experiment,
            "display_name": self.display_name,
            "compute": self.compute,
            "command": self.command,
            "created": self.created,
            "started": self.started,
            "ended": self.ended_at,
            "duration": self.duration,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "error": self.error,
            **({"phases": self.phases()} if self.history else {}),
            **(
                {"metrics": self.metrics.to_dict()["metrics"], "params": self.metrics.params}
                if self.metrics is not None
                else {}
            ),
        }


def _io_value(value: Any) -> str:
    if isinstance(value, dict):
        if value.get("jobInputType") == "literal":
            return str(value.get("value"))
        return str(value.get("uri") or value.get("jobOutputType") or value.get("jobInputType") or "")
    return str(value)


@dataclass(repr=False)
class JobList(TableResult):
    """Jobs of the workspace (of one experiment or status when asked)."""

    kind: ClassVar[str] = "jobs"

    jobs: list[JobDetails]
    experiment: str | None = None
    status: str | None = None

    def title(self) -> str:
        which = [f"experiment {self.experiment}"] if self.experiment else []
        which += [f"status {self.status}"] if self.status else []
        return f"{len(self.jobs)} job(s)" + (f" ({', '.join(which)})" if which else "")

    def tables(self) -> list[Table]:
        return [(_HEAD, [job.row() for job in self.jobs])]

    def to_dict(self) -> dict[str, Any]:
        return {"jobs": [job.to_dict() for job in self.jobs]}


@dataclass(repr=False)
class JobLogs(Result):
    """A job's own logs (``user_logs/std_log.txt``, one per process for distributed jobs)."""

    kind: ClassVar[str] = "job-logs"

    name: str
    status: str
    logs: dict[str, str]

    def text(self) -> str:
        if not self.logs:
            return f"Job {self.name} ({self.status}) has written no log yet."
        if len(self.logs) == 1:
            return next(iter(self.logs.values()))
        return "\n".join(f"==> {log} <==\n{text}" for log, text in self.logs.items())

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "logs": self.logs}


@dataclass(repr=False)
class JobMetrics(TableResult):
    """A job's metrics (every value logged, by step) and parameters, as MLflow recorded them."""

    kind: ClassVar[str] = "job-metrics"

    name: str
    metrics: dict[str, list[tuple[int, float]]]
    params: dict[str, str] = field(default_factory=dict)

    def title(self) -> str:
        return f"Job {self.name}: {len(self.metrics)} metric(s), {len(self.params)} parameter(s)"

    def tables(self) -> list[Table]:
        rows = [
            [
                key,
                _number(points[-1][1]),
                str(len(points)),
                _number(min(v for _, v in points)),
                _number(max(v for _, v in points)),
            ]
            for key, points in self.metrics.items()
            if points
        ]
        tables: list[Table] = [(["metric", "last", "values", "min", "max"], rows)]
        if self.params:
            tables.append(
                (["parameter", "value"], [[key, value] for key, value in sorted(self.params.items())])
            )
        return tables

    def html(self) -> str:
        from ..charts import metric_charts_html

        return super().html()[: -len("</div>")] + metric_charts_html(self.metrics) + "</div>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metrics": {
                key: [{"step": s, "value": v} for s, v in points] for key, points in self.metrics.items()
            },
            "params": self.params,
        }


def _number(value: float) -> str:
    return f"{value:.6g}"


@dataclass(repr=False)
class JobOutputs(TableResult):
    """The files of a job's outputs, downloaded."""

    kind: ClassVar[str] = "job-outputs"

    name: str
    files: dict[str, list[Path]]

    def title(self) -> str:
        count = sum(len(paths) for paths in self.files.values())
        return f"Job {self.name}: {count} file(s) downloaded"

    def tables(self) -> list[Table]:
        return [
            (["output", "file"], [[key, str(path)] for key, paths in self.files.items() for path in paths])
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "files": {key: [str(p) for p in paths] for key, paths in self.files.items()},
        }


@dataclass(repr=False)
class RegisteredModel(Result):
    """A model registered from a job's output."""

    kind: ClassVar[str] = "model"

    name: str
    version: str
    path: str
    model_type: str
    job: str = ""

    @property
    def reference(self) -> str:
        """``azureml:NAME:VERSION``, what ``--model`` of ``%endpoint deploy`` takes."""
        return f"azureml:{self.name}:{self.version}"

    def text(self) -> str:
        return (
            f"Model {self.reference} ({self.model_type}) from {self.path}\n"
            f"Deploy it with: %endpoint deploy ENDPOINT DEPLOYMENT --model {self.reference} …"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "path": self.path,
            "type": self.model_type,
            "job": self.job,
        }
