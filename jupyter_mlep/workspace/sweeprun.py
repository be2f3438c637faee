"""Sweep jobs run: trials are child command jobs, sampled, watched and stopped as Azure ML does.

A sweep accepted by PUT (``NotStarted``) is ``Running`` at once: its runner samples the
parameters of trial ``i`` (:mod:`.sweepspace`), creates the child command job ``<sweep>_<i>``
(the trial's command with ``${{search_space.x}}`` bound, the sweep's inputs and outputs, its
compute and experiment; ``parentJobName`` names the sweep; its parameters become the MLflow
params of its run and ``AZUREML_SWEEP_<x>`` variables) and hands it to the job scheduler
(:mod:`.jobrun`), keeping at most ``maxConcurrentTrials`` trials active.

Every ``_TICK`` seconds (at once when a trial ends) the runner reads each active trial's primary metric from the
workspace's MLflow store and applies the early-termination policy (:mod:`.sweeppolicy`) at each
new interval: a stopped trial ends ``Canceled`` with the reason as its error
(``EarlyTermination``). ``trialTimeout`` stops a trial (``Canceled``, ``TrialTimeout``) that has
been preparing or running longer; ``timeout`` ends the whole sweep. The sweep ends when
``maxTotalTrials`` trials have ended (default 1000), the grid is exhausted or the timeout has
run out; the reason is kept in its properties (``mlep.sweep.endReason``), with the best trial
as Azure names it: ``best_child_run_id``, ``score`` (its last logged primary metric) and
``best_metric_status``. The best trial is the best of the completed trials that logged the
metric. A sweep whose trials never logged the metric says so (``mlep.sweep.note``).

A canceled sweep stops its active trials (each ``Canceled``: "the sweep was canceled") and
ends ``Canceled``. A workspace that stops leaves its sweeps ``Running``; when it starts again
(:func:`recover_sweeps`) each sweep goes on where it was: its trials, state and sampler's
seed are stored with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .arm import now_iso
from .context import Workspace
from .jobrun import JOB_STATE_KEY, job_state, scheduler, update_job
from .lives import Lives
from .resolve import duration_seconds
from .store import Record
from .sweepcheck import trial_job
from .sweeppolicy import evaluate, intervals_to_evaluate, parse_policy
from .sweepspace import make_sampler, parse_space

__all__ = [
    "SWEEP_STATE",
    "SweepRunner",
    "recover_sweeps",
    "sweep_children",
    "sweeper",
]

log = logging.getLogger("jupyter_mlep.workspace")
KIND = "job"
SWEEP_STATE = "sweep"
"""The key of a sweep's own state in its private job state."""
_TERMINAL = ("Completed", "Failed", "Canceled", "NotResponding")
_TICK = 0.2
_DEFAULT_MAX_TRIALS = 1000


def sweep_children(ws: Workspace, name: str) -> list[Record]:
    """The trials of sweep ``name`` (child jobs), in creation order."""
    state = _state_of(ws.store.get(f"jobs/{name}"))
    children = []
    for child in state.get("trials", []):
        record = ws.store.get(f"jobs/{child}")
        if record is not None:
            children.append(record)
    return children


def _state_of(record: Record | None) -> dict[str, Any]:
    if record is None:
        return {}
    state = (record.body.get(JOB_STATE_KEY) or {}).get(SWEEP_STATE)
    return state if isinstance(state, dict) else {}


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "severity": None},
        "time": now_iso(),
        "componentName": "mlep-local-workspace",
    }


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    return None


class SweepRunner(Lives):
    """Runs the workspace's sweeps: one task per sweep (its life: :class:`_Sweep`)."""

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws

    async def cancel(self, name: str) -> None:
        """Stop a sweep and its trials; return once it has ended."""
        event, task = self.cancels.get(name), self.tasks.get(name)
        if event is not None:
            event.set()
            jobs = scheduler(self.ws)
            async with jobs.changed:  # the sweep stops waiting at once
                jobs.changed.notify_all()
        if task is not None:
            await asyncio.shield(task)

    async def stop_all(self) -> None:
        """The workspace stops: the sweeps' tasks end, the sweeps stay as they are (resumed later)."""
        self.stopping = True
        tasks = list(self.tasks.values())
        for event in self.cancels.values():
            event.set()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _life(self, name: str) -> None:
        try:
            await self._run(name)
        except Exception as exc:
            log.exception("sweep %s failed", name)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            update_job(self.ws, name, "Failed", endTimeUtc=now_iso(), error=_error("SystemError", message))

    async def _run(self, name: str) -> None:
        record = self.ws.store.get(f"jobs/{name}")
        if record is None:
            return
        sweep, event = _Sweep(self.ws, record), self.cancels[name]
        sweep.start()
        while True:
            sweep.observe()
            if event.is_set():
                if self.stopping:
                    return  # the workspace stops: the sweep resumes when it starts again
                await sweep.stop_active("SweepCanceled", f"The sweep {name} was canceled.")
                sweep.finish("Canceled", "The sweep was canceled.")
                return
            sweep.police()
            if sweep.timed_out():
                reason = f"The sweep's limits.timeout ({sweep.timeout:g} s) ran out."
                await sweep.stop_active("SweepTimeout", reason)
                sweep.finish(sweep.outcome(), reason)
                return
            sweep.launch()
            ended = sweep.end_reason()
            if ended:
                sweep.finish(sweep.outcome(), ended)
                return
            await sweep.pause(event)


class _Sweep:
    """One sweep's life: its settings and stored state, its trials' statuses and metrics as last
    read (:meth:`observe`), and what it does with them."""

    def __init__(self, ws: Workspace, record: Record) -> None:
        self.ws, self.name = ws, record.name
        self.props = record.body["properties"]
        objective = self.props["objective"]
        self.goal, self.metric = str(objective["goal"]), str(objective["primaryMetric"])
        self.sampler = make_sampler(
            self.props["samplingAlgorithm"], parse_space(self.props["searchSpace"]), self.goal
        )
        self.policy = parse_policy(self.props.get("earlyTermination"))
        limits = self.props.get("limits") or {}
        self.size = self.sampler.size()
        self.max_total = int(limits.get("maxTotalTrials") or (self.size or _DEFAULT_MAX_TRIALS))
        self.max_concurrent = int(limits.get("maxConcurrentTrials") or self.max_total)
        self.timeout = duration_seconds(limits.get("timeout"), 0.0) or None
        self.trial_timeout = duration_seconds(limits.get("trialTimeout"), 0.0) or None
        state = _state_of(record)
        self.trials: list[str] = list(state.get("trials", []))
        self.parameters: dict[str, dict[str, Any]] = dict(state.get("parameters", {}))
        self.evaluated: dict[str, int] = dict(state.get("evaluated", {}))
        self.started_at = _epoch(state.get("startTimeUtc")) or time.time()
        self.jobs = scheduler(ws)
        self.statuses: dict[str, str] = {}
        self.series: dict[str, list[float]] = {}
        self.told: set[str] = set()
        self.stopping: set[str] = set()
        self.seen_running: dict[str, float] = {}
        self.background: set[asyncio.Task[None]] = set()
        self.exhausted = False

    # -- state ---------------------------------------------------------------------------------
    def _save(self, status: str | None = None, **changes: Any) -> None:
        record = self.ws.store.get(f"jobs/{self.name}")
        if record is not None:
            update_job(self.ws, self.name, status, **{SWEEP_STATE: {**_state_of(record), **changes}})

    def start(self) -> None:
        """``Running``, with its start time (kept: a resumed sweep's timeout counts from it)."""
        record = self.ws.store.get(f"jobs/{self.name}")
        if not _state_of(record).get("startTimeUtc"):
            started = now_iso()
            self._save("Running", startTimeUtc=started, trials=self.trials)
            update_job(self.ws, self.name, startTimeUtc=started)
            self.started_at = _epoch(started) or time.time()
        elif self.props.get("status") == "NotStarted":
            update_job(self.ws, self.name, "Running")

    @property
    def active(self) -> list[str]:
        """The trials that have not ended."""
        return [child for child in self.trials if self.statuses.get(child) not in _TERMINAL]

    def observe(self) -> None:
        """Read the trials' statuses and primary metric; tell the sampler the results of the trials
        that ended (a trial a policy stopped is an observation too, a poor one)."""
        self.statuses = {child: _status(self.ws, child) for child in self.trials}
        self.series = _series(self.ws, self.trials, self.metric)
        for index, child in enumerate(self.trials):
            status = self.statuses[child]
            if status in _TERMINAL and child not in self.told:
                self.told.add(child)
                values = [v for v in self.series.get(child, []) if not math.isnan(v)]
                value = values[-1] if values and status in ("Completed", "Canceled") else None
                self.sampler.tell(index, self.parameters.get(child, {}), value)

    # -- stopping trials -----------------------------------------------------------------------
    def stop_soon(self, child: str, code: str, reason: str) -> None:
        """Stop ``child`` in the background; it ends ``Canceled`` with ``reason`` as its error."""
        self.stopping.add(child)

        async def stop() -> None:
            if self.jobs.active(child):
                await self.jobs.cancel(child, reason=_error(code, reason))
            else:
                update_job(self.ws, child, "Canceled", endTimeUtc=now_iso(), error=_error(code, reason))

        task = asyncio.get_running_loop().create_task(stop())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def stop_active(self, code: str, reason: str) -> None:
        """Stop every active trial and wait until they have ended."""
        for child in self.active:
            if child not in self.stopping:
                self.stop_soon(child, code, reason)
        if self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)
        self.statuses = {child: _status(self.ws, child) for child in self.trials}

    def police(self) -> None:
        """Apply the trial timeout and the early-termination policy at each new interval."""
        changed = False
        for child in self.active:
            if child in self.stopping:
                continue
            if self.statuses[child] in ("Preparing", "Running", "Finalizing"):
                self.seen_running.setdefault(child, time.monotonic())
            limit = self.trial_timeout
            if limit and child in self.seen_running and time.monotonic() - self.seen_running[child] >= limit:
                self.stop_soon(
                    child,
                    "TrialTimeout",
                    f"The trial ran longer than the sweep's limits.trialTimeout ({limit:g} s) and was stopped.",
                )
                continue
            if self.policy is None:
                continue
            logged = len(self.series.get(child, []))
            for interval in intervals_to_evaluate(self.policy, logged, self.evaluated.get(child, 0)):
                decision = evaluate(self.policy, self.goal, self.metric, self.series, child, interval)
                if decision is not None:
                    self.stop_soon(child, "EarlyTermination", decision.reason)
                    break
            if logged > self.evaluated.get(child, 0):
                self.evaluated[child] = logged
                changed = True
        if changed:
            self._save(evaluated=self.evaluated)

    def timed_out(self) -> bool:
        """Whether the sweep's ``timeout`` has run out."""
        return bool(self.timeout) and time.time() - self.started_at >= (self.timeout or 0)

    # -- new trials ----------------------------------------------------------------------------
    def launch(self) -> None:
        """Start trials while fewer than ``maxConcurrentTrials`` are active and the limit allows."""
        active = len(self.active)
        while active < self.max_concurrent and len(self.trials) < self.max_total:
            index = len(self.trials)
            drawn = self.sampler.parameters(index)
            if drawn is None:
                self.exhausted = True
                break
            child = f"{self.name}_{index}"
            _create_child(self.ws, self.name, self.props, child, index, drawn)
            self.trials.append(child)
            self.parameters[child] = drawn
            self.statuses[child] = "NotStarted"
            self._save(trials=self.trials, parameters=self.parameters)
            self.jobs.submit(child)
            active += 1
        if self.size is not None and len(self.trials) >= self.size:
            self.exhausted = True

    def end_reason(self) -> str | None:
        """Why the sweep ends now (every trial ended and no more will start), or None."""
        if self.active or self.background:
            return None
        if len(self.trials) >= self.max_total:
            return f"limits.maxTotalTrials ({self.max_total}) trials have run."
        if self.exhausted:
            return f"Every one of the {len(self.trials)} combinations of the grid has run."
        return None

    async def pause(self, event: asyncio.Event) -> None:
        """Until a job releases its slot (a trial ended), at most ``_TICK`` seconds."""
        if not event.is_set():
            async with self.jobs.changed:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.jobs.changed.wait(), timeout=_TICK)

    # -- the end -------------------------------------------------------------------------------
    def outcome(self) -> str:
        """``Failed`` when every trial failed, else ``Completed``."""
        statuses = [_status(self.ws, child) for child in self.trials]
        return "Failed" if statuses and all(status == "Failed" for status in statuses) else "Completed"

    def _best(self) -> tuple[str, float] | None:
        maximize = self.goal.lower() == "maximize"
        best: tuple[str, float] | None = None
        for child in self.trials:
            values = [v for v in self.series.get(child, []) if not math.isnan(v)]
            if _status(self.ws, child) != "Completed" or not values:
                continue
            if best is None or (values[-1] > best[1] if maximize else values[-1] < best[1]):
                best = (child, values[-1])
        return best

    def finish(self, status: str, reason: str) -> None:
        """End the sweep: the best trial, why it ended and a note in its properties, then ``status``."""
        record = self.ws.store.get(f"jobs/{self.name}")
        if record is None:
            return
        self.series = _series(self.ws, self.trials, self.metric)
        properties = dict(record.body["properties"].get("properties") or {})
        properties["primary_metric_config"] = f'{{"name": "{self.metric}", "goal": "{self.goal.lower()}"}}'
        properties["mlep.sweep.endReason"] = reason
        properties["mlep.sweep.trials"] = str(len(self.trials))
        best = self._best()
        if best is not None:
            properties["best_child_run_id"] = best[0]
            properties["score"] = repr(best[1])
            properties["best_metric_status"] = "Succeeded"
        if self.trials and not self.series:
            properties["mlep.sweep.note"] = (
                f"No trial logged the primary metric '{self.metric}' (with MLflow: "
                f"mlflow.log_metric('{self.metric}', …)); no early-termination policy acted and no best "
                "trial was chosen."
            )
        record.body["properties"]["properties"] = properties
        self.ws.store.put(record.path, KIND, "", record.name, record.body)
        error = None
        if status == "Failed":
            first = next(
                (
                    (job_state(r).get("error") or {}).get("error", {}).get("message")
                    for r in sweep_children(self.ws, self.name)
                    if job_state(r).get("error")
                ),
                None,
            )
            error = _error(
                "UserError", f"Every trial of the sweep failed. The first trial's error: {first or 'unknown'}"
            )
        update_job(self.ws, self.name, status, endTimeUtc=now_iso(), error=error)


def _status(ws: Workspace, child: str) -> str:
    record = ws.store.get(f"jobs/{child}")
    return str(record.body["properties"].get("status")) if record is not None else "Canceled"


def _series(ws: Workspace, trials: list[str], metric: str) -> dict[str, list[float]]:
    """Every trial's logged values of ``metric``, in the order logged."""
    from .tracking._store import TrackingStore

    if not trials:
        return {}
    series: dict[str, list[float]] = {}
    for row in TrackingStore.of(ws).metric_history(trials, metric):
        series.setdefault(str(row.run_id), []).append(float(row.value))
    return series


def _create_child(
    ws: Workspace, sweep: str, props: Mapping[str, Any], child: str, index: int, values: Mapping[str, Any]
) -> None:
    """Store trial ``index`` as the command job ``child`` (``NotStarted``), its parameters kept for
    its MLflow run."""
    body = trial_job(ws, sweep, props, child, values)
    body["status"] = "NotStarted"
    state = {
        "statusHistory": [{"status": "NotStarted", "timeUtc": now_iso()}],
        "parent": sweep,
        "trialIndex": index,
        "parameters": {k: _param(v) for k, v in values.items()},
    }
    ws.store.put(f"jobs/{child}", KIND, "", child, {"properties": body, JOB_STATE_KEY: state})


def _param(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def sweeper(ws: Workspace) -> SweepRunner:
    """The workspace's sweep runner (created on first use, kept with the job scheduler)."""
    jobs = scheduler(ws)
    runner = getattr(jobs, "sweeps", None)
    if runner is None:
        runner = SweepRunner(ws)
        jobs.sweeps = runner
    assert isinstance(runner, SweepRunner)
    return runner


async def recover_sweeps(ws: Workspace, *, run: bool = True) -> None:
    """After a start: sweeps in progress go on (their trials were recovered as jobs); a sweep whose
    cancel was asked for ends Canceled."""
    for record in ws.store.children(KIND):
        props = record.body["properties"]
        if props.get("jobType") != "Sweep" or props.get("status") in _TERMINAL:
            continue
        if run:
            runner = sweeper(ws)
            runner.submit(record.name)
            if props.get("status") == "CancelRequested":  # its trials stop, then it ends Canceled
                runner.cancels[record.name].set()
        elif props.get("status") == "CancelRequested":
            update_job(ws, record.name, "Canceled", endTimeUtc=now_iso())
