"""Sweep jobs as the notebook sees them: the trials (run history's children of the sweep) with
their parameters and primary metric (MLflow), why a policy stopped one, the best trial (the
sweep's ``best_child_run_id``, as Azure names it), and following a sweep until it ends."""

from __future__ import annotations

import html as _html
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._errors import NotFoundError, UsageError
from ..rendering import Table, TableResult
from ..rest import RestClient
from ..rest._services import metric_history, run_children, run_data
from ._job_results import TERMINAL_STATUSES, JobDetails
from ._jobs import get_job

__all__ = ["SweepDetails", "SweepTrial", "best_trial", "follow_sweep", "get_sweep"]


@dataclass
class SweepTrial:
    """One trial: its parameters, state, the primary metric it logged (one value per interval) and,
    when a policy or a limit stopped it, why."""

    name: str
    status: str
    parameters: dict[str, str] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)
    reason: str = ""

    def best(self, maximize: bool) -> float | None:
        """The trial's best value so far (None before it logged one)."""
        finite = [v for v in self.values if not math.isnan(v)]
        if not finite:
            return None
        return max(finite) if maximize else min(finite)

    @property
    def latest(self) -> float | None:
        """The last value it logged."""
        return self.values[-1] if self.values else None

    def to_dict(self, maximize: bool) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "parameters": self.parameters,
            "intervals": len(self.values),
            "latest": self.latest,
            "best": self.best(maximize),
            "values": self.values,
            "reason": self.reason,
        }


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


@dataclass(repr=False)
class SweepDetails(TableResult):
    """A sweep: its state, objective, every trial, the best one and why it ended."""

    kind: ClassVar[str] = "sweep"

    job: JobDetails
    metric: str
    goal: str
    trials: list[SweepTrial] = field(default_factory=list)
    best: str = ""
    score: float | None = None
    end_reason: str = ""
    note: str = ""

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def state(self) -> str:
        """The sweep's status (``status()`` is the result's status output)."""
        return self.job.status

    @property
    def ended(self) -> bool:
        return self.job.ended

    @property
    def maximize(self) -> bool:
        return self.goal.lower() == "maximize"

    def parameter_names(self) -> list[str]:
        names: list[str] = []
        for trial in self.trials:
            names += [key for key in trial.parameters if key not in names]
        return names

    def title(self) -> str:
        done = sum(1 for t in self.trials if t.status in TERMINAL_STATUSES)
        best = f"; best {self.best} ({self.metric} {_number(self.score)})" if self.best else ""
        return (
            f"Sweep {self.name}: {self.state}, {len(self.trials)} trial(s), {done} ended "
            f"({self.goal.lower()} {self.metric}){best}"
        )

    def rows(self) -> tuple[list[str], list[list[str]]]:
        names = self.parameter_names()
        head = ["trial", "state", *names, f"latest {self.metric}", f"best {self.metric}", "stop reason"]
        rows = []
        for trial in self.trials:
            mark = "★ " if trial.name == self.best else ""
            rows.append(
                [
                    mark + trial.name,
                    trial.status,
                    *[trial.parameters.get(name, "") for name in names],
                    _number(trial.latest),
                    _number(trial.best(self.maximize)),
                    trial.reason,
                ]
            )
        return head, rows

    def tables(self) -> list[Table]:
        return [self.rows()]

    def footer(self) -> list[tuple[str, bool]]:
        lines: list[tuple[str, bool]] = []
        if self.job.error:
            lines.append((f"Error: {self.job.error}", True))
        if self.end_reason:
            lines.append((f"Ended: {self.end_reason}", False))
        if self.note:
            lines.append((self.note, True))
        return lines

    def charts_html(self) -> str:
        """The primary metric per trial against interval, and parameters against the metric."""
        from ..charts import chart_img, parallel_coordinates_png, sweep_metric_png

        series = {t.name: t.values for t in self.trials if t.values}
        if not series:
            return ""
        images = [chart_img(f"{self.metric} per trial", sweep_metric_png(self.metric, series, self.best))]
        names = self.parameter_names()
        scored = [t for t in self.trials if t.parameters]
        if names and len(scored) > 1:
            rows = [([_value(t.parameters.get(n)) for n in names], t.best(self.maximize)) for t in scored]
            images.append(
                chart_img("parallel coordinates", parallel_coordinates_png(names, rows, self.metric))
            )
        return f'<div class="mlep-sweep-charts">{"".join(images)}</div>'

    def html(self) -> str:
        esc = _html.escape
        head, rows = self.rows()
        cells = "".join(f"<th>{esc(h)}</th>" for h in head)
        body = []
        for trial, row in zip(self.trials, rows, strict=True):
            style = ' style="background:#dafbe1;font-weight:bold"' if trial.name == self.best else ""
            klass = ' class="mlep-best-trial"' if trial.name == self.best else ""
            body.append(f"<tr{klass}{style}>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
        table = f'<table class="mlep-sweep-trials"><tr>{cells}</tr>{"".join(body)}</table>'
        footer = "".join(
            f"<div><b>{esc(line)}</b></div>" if bold else f"<div>{esc(line)}</div>"
            for line, bold in self.footer()
        )
        return f'<div class="mlep-sweep"><b>{esc(self.title())}</b>{table}{footer}{self.charts_html()}</div>'

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.state,
            "metric": self.metric,
            "goal": self.goal,
            "best": self.best or None,
            "score": self.score,
            "end_reason": self.end_reason,
            "note": self.note,
            "error": self.job.error,
            "trials": [t.to_dict(self.maximize) for t in self.trials],
        }


def _value(text: str | None) -> object:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _reason(run: dict[str, Any]) -> str:
    error = run.get("error") or {}
    inner = error.get("error") if isinstance(error, dict) else None
    if isinstance(inner, dict) and inner.get("code") in ("EarlyTermination", "TrialTimeout", "SweepTimeout",
                                                         "SweepCanceled"):  # fmt: skip
        return str(inner.get("message") or "")
    if isinstance(inner, dict) and run.get("status") == "Failed":
        return str(inner.get("message") or "").splitlines()[0] if inner.get("message") else ""
    return ""


def get_sweep(client: RestClient, name: str) -> SweepDetails:
    """The sweep ``name`` now: its trials with their parameters, primary metric and stop reasons."""
    raw = client.get(client.paths.job(name))
    props = raw.get("properties") or {}
    if props.get("jobType") != "Sweep":
        raise UsageError(
            f"Job {name} is a {props.get('jobType') or 'job'} job, not a sweep.",
            hint=f"Show it with %job show {name}.",
        )
    job = get_job(client, name)
    objective = props.get("objective") or {}
    metric = str(objective.get("primaryMetric") or "")
    goal = str(objective.get("goal") or "Maximize")
    trials = []
    for run in run_children(client, name):
        trial = str(run.get("runId") or run.get("name"))
        try:
            data = run_data(client, trial)
            values = [float(p["value"]) for p in metric_history(client, trial, metric)] if metric else []
        except NotFoundError:  # a trial still queued has no MLflow run yet
            data, values = {}, []
        params = {str(p["key"]): str(p["value"]) for p in data.get("params") or []}
        trials.append(SweepTrial(trial, str(run.get("status") or ""), params, values, _reason(run)))
    extra = props.get("properties") or {}
    score = extra.get("score")
    return SweepDetails(
        job=job,
        metric=metric,
        goal=goal,
        trials=trials,
        best=str(extra.get("best_child_run_id") or ""),
        score=float(score) if score not in (None, "") else None,
        end_reason=str(extra.get("mlep.sweep.endReason") or ""),
        note=str(extra.get("mlep.sweep.note") or ""),
    )


def best_trial(client: RestClient, name: str) -> str:
    """The best trial of the ended sweep ``name`` (its ``best_child_run_id``)."""
    props = client.get(client.paths.job(name)).get("properties") or {}
    if props.get("jobType") != "Sweep":
        raise UsageError(f"Job {name} is not a sweep: --best needs a sweep job.", hint="Drop --best.")
    extra = props.get("properties") or {}
    best = extra.get("best_child_run_id")
    if not best:
        status = props.get("status")
        why = extra.get("mlep.sweep.note") or (
            f"it is {status}" if status not in TERMINAL_STATUSES else "no completed trial logged its metric"
        )
        raise UsageError(
            f"Sweep {name} has no best trial: {why}.",
            hint=f"Wait for it with %job stream {name}, or pick a trial by name (%job show {name}).",
        )
    return str(best)


def follow_sweep(
    client: RestClient,
    name: str,
    *,
    on_text: Callable[[str], None],
    interval: float = 1.0,
) -> SweepDetails:
    """Follow the sweep until it has ended: ``on_text`` hears each change of the sweep's or a
    trial's state (with a stopped trial's reason); the sweep as it ended."""
    seen: dict[str, str] = {}
    while True:
        job = get_job(client, name)
        if seen.get(name) != job.status:
            seen[name] = job.status
            on_text(f"{name}: {job.status}")
        for run in run_children(client, name):
            trial, status = str(run.get("runId")), str(run.get("status"))
            if seen.get(trial) != status:
                seen[trial] = status
                reason = _reason(run)
                on_text(f"  {trial}: {status}" + (f" ({reason})" if reason else ""))
        if job.ended:
            return get_sweep(client, name)
        time.sleep(interval)
