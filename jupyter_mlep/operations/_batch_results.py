"""What the batch operations return: endpoints, a batch job with its progress and output, a list
of batch jobs, and a dry run. Each renders itself (:mod:`jupyter_mlep.rendering`)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..rendering import Table, TableResult
from ..specs import BatchDeployment, BatchEndpoint
from ._job_results import JobDetails

__all__ = [
    "SMALL_OUTPUT_BYTES",
    "BatchEndpointDetails",
    "BatchEndpointList",
    "BatchJob",
    "BatchJobList",
    "BatchProgress",
    "DryRunResult",
]

SMALL_OUTPUT_BYTES = 20 * 1024 * 1024
"""Outputs up to this size are shown as a DataFrame; larger ones as their path."""

_ENDPOINT_HEAD = ["name", "state", "default deployment", "scoring URI"]
_DEPLOYMENT_HEAD = ["deployment", "state", "workers", "mini-batch", "errors allowed", "output"]
_JOB_HEAD = ["job", "status", "deployment", "mini-batches", "failed", "items/s", "duration"]


def _endpoint_row(item: BatchEndpoint) -> list[str]:
    return [
        item.name,
        str(item.provisioning_state or ""),
        item.default_deployment or "",
        item.scoring_uri or "",
    ]


def _deployment_row(item: BatchDeployment) -> list[str]:
    output = item.output_file_name if item.output_action == "append_row" else "(summary only)"
    errors = "any" if item.error_threshold < 0 else str(item.error_threshold)
    return [
        item.name,
        str(item.provisioning_state or ""),
        str(item.workers),
        str(item.mini_batch_size),
        errors,
        output,
    ]


@dataclass(repr=False)
class BatchEndpointDetails(TableResult):
    """A batch endpoint and its deployments."""

    kind: ClassVar[str] = "batch-endpoint"

    endpoint: BatchEndpoint
    deployments: list[BatchDeployment] = field(default_factory=list)

    def title(self) -> str:
        return f"Batch endpoint {self.endpoint.name}"

    def tables(self) -> list[Table]:
        return [
            (_ENDPOINT_HEAD, [_endpoint_row(self.endpoint)]),
            (_DEPLOYMENT_HEAD, [_deployment_row(d) for d in self.deployments]),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {**self.endpoint.to_yaml_dict(), "deployments": [d.to_yaml_dict() for d in self.deployments]}


@dataclass(repr=False)
class BatchEndpointList(TableResult):
    """Every batch endpoint of the workspace."""

    kind: ClassVar[str] = "batch-endpoints"

    endpoints: list[BatchEndpoint]

    def title(self) -> str:
        return f"{len(self.endpoints)} batch endpoint(s)"

    def tables(self) -> list[Table]:
        return [(_ENDPOINT_HEAD, [_endpoint_row(e) for e in self.endpoints])]

    def to_dict(self) -> dict[str, Any]:
        return {"endpoints": [e.to_yaml_dict() for e in self.endpoints]}


@dataclass
class BatchProgress:
    """Where a batch job is: its mini-batches, items and errors (read from its logs)."""

    total: int = 0
    """Mini-batches in all (0 while the files are still being listed)."""
    done: int = 0
    """Mini-batches that succeeded."""
    failed: int = 0
    """Mini-batches that failed after their retries."""
    running: int = 0
    """Mini-batches being scored now."""
    items_succeeded: int = 0
    items_failed: int = 0
    seconds: float = 0.0
    """Seconds since the first mini-batch started."""
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(file or mini-batch, exception) of each failure."""

    @property
    def items_per_second(self) -> float:
        """Items scored per second so far."""
        return self.items_succeeded / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The counters, JSON-ready."""
        return {
            "mini_batches": {
                "total": self.total,
                "done": self.done,
                "failed": self.failed,
                "running": self.running,
            },
            "items": {"succeeded": self.items_succeeded, "failed": self.items_failed},
            "items_per_second": round(self.items_per_second, 2),
            "errors": [{"file": name, "exception": error} for name, error in self.errors],
        }


@dataclass(repr=False)
class BatchJob(TableResult):
    """A batch scoring job: its status, progress, errors and output.

    :attr:`output` is the output as a DataFrame when it is small (else its path), once downloaded;
    :meth:`to_pandas` reads it whatever its size.
    """

    kind: ClassVar[str] = "batch-job"

    job: JobDetails
    endpoint: str = ""
    deployment: str = ""
    progress: BatchProgress = field(default_factory=BatchProgress)
    output_path: Path | None = None
    """The downloaded output file (``append_row`` jobs that completed), else None."""
    columns: list[str] | None = None
    """Column names of the output (the MLflow scorer's ``row, prediction, file_name``), when known."""
    _frame: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The job's name (``%job show NAME`` works on it too)."""
        return self.job.name

    @property
    def status(self) -> str:
        """``Running``, ``Completed``, ``Failed``…"""
        return self.job.status

    @property
    def ended(self) -> bool:
        """True once the job has ended."""
        return self.job.ended

    def to_pandas(self) -> Any:
        """The output file as a DataFrame (rows as ``run()`` returned them; no header, as Azure writes it)."""
        pd: Any = importlib.import_module("pandas")  # an extra: imported when used

        if self.output_path is None:
            hint = (
                "It writes no file (output_action: summary_only)"
                if self.job.ended
                else "Wait for it to complete"
            )
            raise FileNotFoundError(f"Batch job {self.name} has no output file here. {hint}.")
        if self._frame is None:
            self._frame = pd.read_csv(self.output_path, header=None, names=self.columns)
        return self._frame

    @property
    def output(self) -> Any:
        """The output: a DataFrame when small, else the path of the file (None without one)."""
        if self.output_path is None:
            return None
        if self.output_path.stat().st_size <= SMALL_OUTPUT_BYTES:
            return self.to_pandas()
        return self.output_path

    def title(self) -> str:
        where = f"{self.endpoint}/{self.deployment}" if self.deployment else self.endpoint
        return f"Batch job {self.name} on {where}: {self.status}"

    def row(self) -> list[str]:
        """The job as one row of :data:`_JOB_HEAD`."""
        p = self.progress
        batches = f"{p.done}/{p.total}" if p.total else str(p.done)
        duration = self.job.duration
        return [
            self.name,
            self.status,
            self.deployment,
            batches + (f" ({p.running} running)" if p.running else ""),
            str(p.failed),
            f"{p.items_per_second:.1f}",
            "" if duration is None else f"{duration:.1f} s",
        ]

    def tables(self) -> list[Table]:
        tables: list[Table] = [(_JOB_HEAD, [self.row()])]
        if self.progress.errors:
            tables.append((["file", "exception"], [list(item) for item in self.progress.errors[:20]]))
        return tables

    def footer(self) -> list[tuple[str, bool]]:
        lines: list[tuple[str, bool]] = []
        if self.job.error:
            lines.append((self.job.error, True))
        if self.output_path is not None:
            lines.append((f"Output: {self.output_path} (r.to_pandas() reads it)", False))
            frame = self.output
            if frame is not None and not isinstance(frame, Path):
                lines.append((frame.head(10).to_string(header=self.columns is not None), False))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "error": self.job.error,
            "output": str(self.output_path) if self.output_path else None,
            **self.progress.to_dict(),
        }


@dataclass(repr=False)
class BatchJobList(TableResult):
    """The batch jobs of an endpoint, newest first."""

    kind: ClassVar[str] = "batch-jobs"

    endpoint: str
    jobs: list[BatchJob]

    def title(self) -> str:
        return f"{len(self.jobs)} batch job(s) of {self.endpoint}"

    def tables(self) -> list[Table]:
        return [(_JOB_HEAD, [job.row() for job in self.jobs])]

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "jobs": [job.to_dict() for job in self.jobs]}


@dataclass(repr=False)
class DryRunResult(TableResult):
    """The first mini-batch scored in this process: what ``run()`` got and returned."""

    kind: ClassVar[str] = "batch-dry-run"

    script: str
    files: list[str]
    result: Any
    seconds: float
    init_seconds: float

    @property
    def rows(self) -> int:
        """How many items ``run()`` reported as succeeded (the length of what it returned)."""
        return len(self.result)

    def to_pandas(self) -> Any:
        """What ``run()`` returned, as a DataFrame."""
        pd: Any = importlib.import_module("pandas")  # an extra: imported when used

        return (
            self.result
            if isinstance(self.result, pd.DataFrame)
            else pd.DataFrame({"result": list(self.result)})
        )

    def title(self) -> str:
        return (
            f"Dry run of {self.script}: run() scored {self.rows} of {len(self.files)} file(s) in {self.seconds:.2f} s "
            f"(init() {self.init_seconds:.2f} s)"
        )

    def tables(self) -> list[Table]:
        frame = self.to_pandas().head(10)
        return [
            (["file"], [[Path(f).name] for f in self.files]),
            ([str(c) for c in frame.columns], frame.values.tolist()),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"script": self.script, "files": self.files, "rows": self.rows, "seconds": self.seconds}
