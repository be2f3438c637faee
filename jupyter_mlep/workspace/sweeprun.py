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

from .arm import bad_request, now_iso
from .context import Workspace
from .jobplan import check_command_job
from .jobrun import JOB_STATE_KEY, compute_concurrency, job_state, scheduler, update_job
from .resolve import default_output_uri, duration_seconds
from .store import Record
from .sweeppolicy import evaluate, intervals_to_evaluate, parse_policy
from .sweepspace import check_sampling, make_sampler, parse_space, substitute

__all__ = [
    "SWEEP_STATE",
    "SweepRunner",
    "check_sweep_job",
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
_PLACEHOLDER = "0"


# -- PUT -------------------------------------------------------------------------------------------------
def _trial_props(
    sweep: str, props: Mapping[str, Any], child: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The REST properties of the command job that runs one trial."""
    trial = props.get("trial") or {}
    outputs: dict[str, Any] = {}
    for output, item in (props.get("outputs") or {}).items():
        item = dict(item or {})
        if item.get("uri") == default_output_uri(sweep, output):
            item.pop("uri")  # each trial writes its own default folder
        outputs[output] = item
    variables = dict(trial.get("environmentVariables") or {})
    variables.update({f"AZUREML_SWEEP_{name}": str(value) for name, value in parameters.items()})
    body: dict[str, Any] = {
        "jobType": "Command",
        "command": substitute(str(trial.get("command") or ""), parameters),
        "environmentId": trial.get("environmentId"),
        "codeId": trial.get("codeId"),
        "environmentVariables": variables,
        "distribution": trial.get("distribution"),
        "resources": trial.get("resources"),
        "inputs": {k: dict(v) for k, v in (props.get("inputs") or {}).items()},
        "outputs": outputs,
        "computeId": props.get("computeId"),
        "experimentName": props.get("experimentName") or "Default",
        "displayName": child,
        "parentJobName": sweep,
        "tags": {},
        "properties": {
            key: value
            for key, value in (props.get("properties") or {}).items()
            if key.startswith("mlep.runtime")
        },
        "isArchived": False,
    }
    return {key: value for key, value in body.items() if value is not None}


def check_sweep_job(ws: Workspace, name: str, props: dict[str, Any]) -> None:
    """Refuse (400) a sweep that cannot run here: its search space, sampling algorithm, policy,
    limits and the trial as a command job (with placeholder values for the search space)."""
    space = parse_space(props.get("searchSpace"))
    goal = str((props.get("objective") or {}).get("goal") or "Maximize")
    check_sampling(props["samplingAlgorithm"], space, goal)
    policy = props.get("earlyTermination")
    if policy:
        kind = str(policy.get("policyType"))
        if kind == "Bandit" and not (policy.get("slackFactor") or policy.get("slackAmount")):
            raise bad_request(
                "A Bandit policy needs slackFactor or slackAmount.", target="properties.earlyTermination"
            )
        if kind == "Bandit" and policy.get("slackFactor") and policy.get("slackAmount"):
            raise bad_request(
                "A Bandit policy takes slackFactor or slackAmount, not both.",
                target="properties.earlyTermination",
            )
        percentage = policy.get("truncationPercentage")
        if kind == "TruncationSelection" and not (isinstance(percentage, int) and 1 <= percentage <= 99):
            raise bad_request(
                f"truncationPercentage must be a whole number from 1 to 99, got {percentage!r}.",
                target="properties.earlyTermination.truncationPercentage",
            )
        for key in ("evaluationInterval", "delayEvaluation"):
            value = policy.get(key)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise bad_request(
                    f"earlyTermination.{key} must be a whole number of at least 0, got {value!r}.",
                    target=f"properties.earlyTermination.{key}",
                )
    limits = props.get("limits") or {}
    for key in ("maxTotalTrials", "maxConcurrentTrials"):
        value = limits.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise bad_request(
                f"limits.{key} must be a whole number of at least 1, got {value!r}.",
                target=f"properties.limits.{key}",
            )
    for key in ("timeout", "trialTimeout"):
        value = limits.get(key)
        if value is not None and duration_seconds(value, -1.0) <= 0:
            raise bad_request(
                f"limits.{key} must be an ISO 8601 duration such as PT30M, got {value!r}.",
                target=f"properties.limits.{key}",
            )
    trial = props.get("trial") or {}
    placeholders = {key: _PLACEHOLDER for key in _names(space)}
    probe = _trial_props(name, props, name, placeholders)
    probe["command"] = substitute(str(trial.get("command") or ""), placeholders)
    if "${{search_space." in probe["command"].replace(" ", ""):
        raise bad_request(
            "The trial's command uses a ${{search_space.<name>}} that the search space does not define. "
            "Add the parameter to searchSpace, or fix the name in the command.",
            target="properties.trial.command",
        )
    check_command_job(ws, name, probe, lambda compute: compute_concurrency(ws, compute))
    props["inputs"], props["outputs"] = probe.get("inputs") or {}, probe.get("outputs") or {}


def _names(space: Mapping[str, Any]) -> list[str]:
    from .sweepspace import Distribution

    names: list[str] = []
    for name, dist in space.items():
        names.append(name)
        if isinstance(dist, Distribution) and dist.kind == "choice":
            for value in dist.values:
                if isinstance(value, dict):
                    names += _names(value)
    return names


# -- the runner ------------------------------------------------------------------------------------------
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


class SweepRunner:
    """Runs the workspace's sweeps: one task per sweep."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.cancels: dict[str, asyncio.Event] = {}
        self.stopping = False

    def submit(self, name: str) -> None:
        """Start (or resume) the life of a sweep in the background."""
        self.cancels[name] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._life(name))
        self.tasks[name] = task
        task.add_done_callback(lambda _: self._forget(name, task))

    def _forget(self, name: str, task: asyncio.Task[None]) -> None:
        if self.tasks.get(name) is task:
            self.tasks.pop(name, None)
            self.cancels.pop(name, None)

    def active(self, name: str) -> bool:
        """True while the sweep's task runs."""
        return name in self.tasks

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

    # -- a sweep's life ----------------------------------------------------------------------------
    def _save(self, name: str, status: str | None = None, **changes: Any) -> Record | None:
        record = self.ws.store.get(f"jobs/{name}")
        if record is None:
            return None
        state = dict(_state_of(record))
        state.update(changes)
        return update_job(self.ws, name, status, **{SWEEP_STATE: state})

    async def _life(self, name: str) -> None:
        try:
            await self._run(name)
        except Exception as exc:
            log.exception("sweep %s failed", name)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            update_job(self.ws, name, "Failed", endTimeUtc=now_iso(), error=_error("SystemError", message))

    async def _run(self, name: str) -> None:
        ws = self.ws
        record = ws.store.get(f"jobs/{name}")
        if record is None:
            return
        props = record.body["properties"]
        event = self.cancels[name]
        space = parse_space(props["searchSpace"])
        objective = props["objective"]
        goal, metric = str(objective["goal"]), str(objective["primaryMetric"])
        sampler = make_sampler(props["samplingAlgorithm"], space, goal)
        policy = parse_policy(props.get("earlyTermination"))
        limits = props.get("limits") or {}
        size = sampler.size()
        max_total = int(limits.get("maxTotalTrials") or (size or _DEFAULT_MAX_TRIALS))
        max_concurrent = int(limits.get("maxConcurrentTrials") or max_total)
        timeout = duration_seconds(limits.get("timeout"), 0.0) or None
        trial_timeout = duration_seconds(limits.get("trialTimeout"), 0.0) or None
        state = _state_of(record)
        trials: list[str] = list(state.get("trials", []))
        parameters: dict[str, dict[str, Any]] = dict(state.get("parameters", {}))
        evaluated: dict[str, int] = dict(state.get("evaluated", {}))
        told: set[str] = set()
        if not state.get("startTimeUtc"):
            self._save(name, "Running", startTimeUtc=now_iso(), trials=trials)
            update_job(ws, name, startTimeUtc=now_iso())
        elif props.get("status") == "NotStarted":
            update_job(ws, name, "Running")
        started = _epoch(_state_of(ws.store.get(f"jobs/{name}")).get("startTimeUtc")) or time.time()
        seen_running: dict[str, float] = {}
        jobs = scheduler(ws)
        stopping: set[str] = set()

        async def stop(child: str, code: str, reason: str) -> None:
            stopping.add(child)
            if jobs.active(child):
                await jobs.cancel(child, reason=_error(code, reason))
            else:
                update_job(ws, child, "Canceled", endTimeUtc=now_iso(), error=_error(code, reason))

        background: set[asyncio.Task[None]] = set()

        def stop_soon(child: str, code: str, reason: str) -> None:
            task = asyncio.get_running_loop().create_task(stop(child, code, reason))
            background.add(task)
            task.add_done_callback(background.discard)

        end_reason: str | None = None
        while True:
            statuses = {child: self._status(child) for child in trials}
            active = [child for child in trials if statuses[child] not in _TERMINAL]
            series = self._series(trials, metric)
            # results for the sampler (Bayesian learns from them)
            for index, child in enumerate(trials):
                if statuses[child] in _TERMINAL and child not in told:
                    told.add(child)
                    values = [v for v in series.get(child, []) if not math.isnan(v)]
                    # a trial a policy stopped is an observation too (a poor one)
                    value = values[-1] if values and statuses[child] in ("Completed", "Canceled") else None
                    sampler.tell(index, parameters.get(child, {}), value)
            if event.is_set():
                if self.stopping:
                    return  # the workspace stops: the sweep resumes when it starts again
                for child in active:
                    if child not in stopping:
                        stop_soon(child, "SweepCanceled", f"The sweep {name} was canceled.")
                await self._drain(background)
                self._finish(name, trials, metric, goal, "Canceled", "The sweep was canceled.")
                return
            # early termination and the trial timeout
            now = time.time()
            changed = False
            for child in active:
                if child in stopping:
                    continue
                status = statuses[child]
                if status in ("Preparing", "Running", "Finalizing"):
                    seen_running.setdefault(child, time.monotonic())
                if (
                    trial_timeout
                    and child in seen_running
                    and time.monotonic() - seen_running[child] >= trial_timeout
                ):
                    stop_soon(
                        child,
                        "TrialTimeout",
                        f"The trial ran longer than the sweep's limits.trialTimeout ({trial_timeout:g} s) and was stopped.",
                    )
                    continue
                if policy is None:
                    continue
                logged = len(series.get(child, []))
                for interval in intervals_to_evaluate(policy, logged, evaluated.get(child, 0)):
                    decision = evaluate(policy, goal, metric, series, child, interval)
                    if decision is not None:
                        stop_soon(child, "EarlyTermination", decision.reason)
                        break
                if logged > evaluated.get(child, 0):
                    evaluated[child] = logged
                    changed = True
            if changed:
                self._save(name, evaluated=evaluated)
            if timeout and now - started >= timeout:
                end_reason = f"The sweep's limits.timeout ({timeout:g} s) ran out."
                for child in active:
                    if child not in stopping:
                        stop_soon(
                            child, "SweepTimeout", f"The sweep's limits.timeout ({timeout:g} s) ran out."
                        )
                await self._drain(background)
                break
            # new trials
            exhausted = False
            while len(active) < max_concurrent and len(trials) < max_total:
                index = len(trials)
                drawn = sampler.parameters(index)
                if drawn is None:
                    exhausted = True
                    break
                child = f"{name}_{index}"
                self._create_child(name, props, child, index, drawn)
                trials.append(child)
                parameters[child] = drawn
                active.append(child)
                self._save(name, trials=trials, parameters=parameters)
                jobs.submit(child)
            if size is not None and len(trials) >= size:
                exhausted = True
            if not active and not background:
                if len(trials) >= max_total:
                    end_reason = f"limits.maxTotalTrials ({max_total}) trials have run."
                    break
                if exhausted:
                    end_reason = f"Every one of the {len(trials)} combinations of the grid has run."
                    break
            if not event.is_set():  # until a job releases its slot (a trial ended), at most _TICK
                async with jobs.changed:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(jobs.changed.wait(), timeout=_TICK)
        statuses = {child: self._status(child) for child in trials}
        completed = [c for c in trials if statuses[c] == "Completed"]
        if trials and not completed and all(statuses[c] == "Failed" for c in trials):
            self._finish(name, trials, metric, goal, "Failed", end_reason or "", failed=True)
            return
        self._finish(name, trials, metric, goal, "Completed", end_reason or "")

    async def _drain(self, background: set[asyncio.Task[None]]) -> None:
        if background:
            await asyncio.gather(*list(background), return_exceptions=True)

    def _status(self, child: str) -> str:
        record = self.ws.store.get(f"jobs/{child}")
        return str(record.body["properties"].get("status")) if record is not None else "Canceled"

    def _series(self, trials: list[str], metric: str) -> dict[str, list[float]]:
        """Every trial's logged values of ``metric``, in the order logged."""
        from .tracking._store import TrackingStore

        if not trials:
            return {}
        series: dict[str, list[float]] = {child: [] for child in trials}
        for row in TrackingStore.of(self.ws).metric_history(trials, metric):
            series.setdefault(str(row.run_id), []).append(float(row.value))
        return {child: values for child, values in series.items() if values}

    def _create_child(
        self, sweep: str, props: Mapping[str, Any], child: str, index: int, values: Mapping[str, Any]
    ) -> None:
        body = _trial_props(sweep, props, child, values)
        check_command_job(self.ws, child, body, lambda compute: compute_concurrency(self.ws, compute))
        history = [{"status": "NotStarted", "timeUtc": now_iso()}]
        body["status"] = "NotStarted"
        self.ws.store.put(
            f"jobs/{child}",
            KIND,
            "",
            child,
            {
                "properties": body,
                JOB_STATE_KEY: {
                    "statusHistory": history,
                    "parent": sweep,
                    "trialIndex": index,
                    "parameters": {k: _param(v) for k, v in values.items()},
                },
            },
        )

    def _finish(
        self,
        name: str,
        trials: list[str],
        metric: str,
        goal: str,
        status: str,
        reason: str,
        *,
        failed: bool = False,
    ) -> None:
        record = self.ws.store.get(f"jobs/{name}")
        if record is None:
            return
        series = self._series(trials, metric)
        maximize = goal.lower() == "maximize"
        best: tuple[str, float] | None = None
        for child in trials:
            if self._status(child) != "Completed":
                continue
            values = [v for v in series.get(child, []) if not math.isnan(v)]
            if not values:
                continue
            if best is None or (values[-1] > best[1] if maximize else values[-1] < best[1]):
                best = (child, values[-1])
        properties = dict(record.body["properties"].get("properties") or {})
        properties["primary_metric_config"] = f'{{"name": "{metric}", "goal": "{goal.lower()}"}}'
        properties["mlep.sweep.endReason"] = reason
        properties["mlep.sweep.trials"] = str(len(trials))
        if best is not None:
            properties["best_child_run_id"] = best[0]
            properties["score"] = repr(best[1])
            properties["best_metric_status"] = "Succeeded"
        if trials and not series:
            properties["mlep.sweep.note"] = (
                f"No trial logged the primary metric '{metric}' (with MLflow: mlflow.log_metric('{metric}', …)); "
                "no early-termination policy acted and no best trial was chosen."
            )
        record.body["properties"]["properties"] = properties
        self.ws.store.put(record.path, KIND, "", record.name, record.body)
        error = None
        if failed:
            first = next(
                (
                    (job_state(r).get("error") or {}).get("error", {}).get("message")
                    for r in sweep_children(self.ws, name)
                    if job_state(r).get("error")
                ),
                None,
            )
            error = _error(
                "UserError", f"Every trial of the sweep failed. The first trial's error: {first or 'unknown'}"
            )
        update_job(self.ws, name, status, endTimeUtc=now_iso(), error=error)


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
