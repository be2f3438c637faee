"""``rollout``: move live traffic to a deployment step by step, check gates after each step, and
put everything back on a failed gate, an error or Ctrl-C.

How a rollout runs (the decisions behind it):

* **Steps** are the deployment's live percentages (``10, 50, 100``: increasing, 1–100; the last
  one may be below 100 for a canary). At each step the other deployments that had live traffic
  before the rollout share the rest in proportion to their original shares (with one other
  deployment that is simply ``100 - p``). Each new split is set like :func:`set_traffic` sets it
  (checked, per-endpoint serialized: the endpoint stays locked for this process during the whole
  rollout) and the interval only starts once the endpoint reports it.
* **Mirror first** (``mirror_first=P``): before the first live step the deployment gets ``P`` % of
  the requests as mirrored copies for one interval, the gates are checked on those copies, then
  mirroring stops (the live steps mirror nothing to it).
* **Gates** (:mod:`._gates`) are judged on one step only: the deployment's Azure Monitor metrics
  (the same series as ``%endpoint metrics``, on both targets) from the moment the endpoint
  reported the step's split to the end of the step's interval: its requests by status code and
  its latency percentiles (live requests, or the mirrored copies in the mirror step: a deployment
  never has both). The local workspace counts that window exactly, to the second; Azure Monitor
  by whole minutes, a few minutes late: the gate waits until the window's data is published
  (:func:`window_metrics`, bounded; ``metrics_delay`` overrides the target's delay), and a
  window still incomplete when the wait ends fails the step. When no request reached the
  deployment during a step, ``sample_request`` is sent ``sample_count`` times to the deployment
  (``azureml-model-deployment`` header, through :func:`invoke`) and the gates are judged on those
  answers; without it the step fails ("no requests reached green during step 2; …").
* **Restore**: on a failed gate, on any error and on Ctrl-C, the live and mirror split the
  endpoint had before the rollout are set back (a full rollback) and read back until the endpoint
  reports them; nothing is left half-shifted. Then :class:`~jupyter_mlep.RolloutError` is raised
  (:class:`~jupyter_mlep.RolloutInterruptedError` for Ctrl-C), naming the step and the gate with its
  measured value, and carrying the :class:`RolloutResult` as ``.result``.
* **Progress**: ``on_step`` receives a :class:`RolloutEvent` at each change (its ``str`` is one
  line of text; ``.result`` is the whole rollout so far), for widgets and terminals.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from .._errors import MlepError, NotFoundError, RestError, RolloutError, RolloutInterruptedError, UsageError
from ..rest import RestClient
from ..specs import MAX_MIRROR_PERCENT, validate_traffic
from ._common import endpoint_lock
from ._deployments import failure_reason, list_deployments
from ._endpoints import get_endpoint
from ._gates import Gate, GateCheck, Measurement, parse_gates, parse_interval, parse_steps
from ._invoke import Payload, encode_payload, invoke
from ._metric_window import window_metrics
from ._results import RolloutResult, RolloutStep
from ._traffic import format_split, set_traffic, split_traffic

__all__ = ["EVENT_KINDS", "RolloutEvent", "rollout"]

EVENT_KINDS = (
    "planned",
    "step-started",
    "sampling",
    "step-passed",
    "step-failed",
    "restoring",
    "restored",
    "finished",
)
"""What a :class:`RolloutEvent` reports: the plan; a step's split is live (its interval starts);
sampled invocations are sent; a step passed or failed; the original split is being set back, and
is back; the rollout is over (every step passed)."""


@dataclass(frozen=True)
class RolloutEvent:
    """One change during a rollout, for ``on_step``; ``str(event)`` is one line of text."""

    kind: str
    """One of :data:`EVENT_KINDS`."""
    message: str
    result: RolloutResult
    step: RolloutStep | None = None

    def __str__(self) -> str:
        return self.message


RolloutCallback = Callable[[RolloutEvent], None]


def rollout(
    client: RestClient,
    endpoint: str,
    deployment: str,
    *,
    steps: str | Sequence[int] = (10, 50, 100),
    interval: float | str = 30.0,
    gates: Iterable[str | Gate] | str | None = None,
    mirror_first: int | None = None,
    sample_request: Payload | None = None,
    sample_count: int = 20,
    timeout: float | None = None,
    on_step: RolloutCallback | None = None,
    metrics_delay: float | None = None,
) -> RolloutResult:
    """Shift live traffic of ``endpoint`` to ``deployment`` step by step, checking ``gates`` after each.

    ``steps``: the deployment's live percentage at each step (``"10,50,100"`` or a list).
    ``interval``: how long each step lasts (seconds, or ``"30s"``, ``"2m"``, ``"500ms"``).
    ``gates``: ``"error_rate<1%"``, ``"p95_ms<200"``, ``"requests>=20"``… (see :mod:`._gates`).
    ``mirror_first``: mirror this percentage to the deployment for one interval first.
    ``sample_request``: a payload sent ``sample_count`` times to the deployment when a step saw no
    requests for it.
    ``metrics_delay``: seconds to wait after a step for its metrics to be published (default: the
    target's ingestion delay, 0 on the local workspace).

    Returns a :class:`RolloutResult` when every step passed. Otherwise the original live and
    mirror split are restored and :class:`~jupyter_mlep.RolloutError` is raised (its ``result``
    holds the steps); Ctrl-C restores too, then raises :class:`~jupyter_mlep.RolloutInterruptedError`.
    """
    started = time.perf_counter()
    percents = parse_steps(steps)
    seconds = parse_interval(interval)
    checks = parse_gates(gates)
    if mirror_first is not None and (
        isinstance(mirror_first, bool)
        or not isinstance(mirror_first, int)
        or not 1 <= mirror_first <= MAX_MIRROR_PERCENT
    ):
        raise UsageError(
            f"--mirror-first must be a whole percentage from 1 to {MAX_MIRROR_PERCENT} (got {mirror_first!r}).",
            hint="E.g. --mirror-first 10",
        )
    if isinstance(sample_count, bool) or not isinstance(sample_count, int) or sample_count < 1:
        raise UsageError(f"sample_count must be a positive whole number (got {sample_count!r}).")
    if sample_request is not None:
        encode_payload(sample_request)  # a missing request file fails now, not at step 1
    if metrics_delay is not None and (
        isinstance(metrics_delay, bool) or not isinstance(metrics_delay, (int, float)) or metrics_delay < 0
    ):
        raise UsageError(f"metrics_delay must be a number of seconds, 0 or more (got {metrics_delay!r}).")

    with endpoint_lock(client, endpoint):  # held for the whole rollout: no other change from here
        info = get_endpoint(client, endpoint)
        found = list_deployments(client, endpoint)
        names = [item.name for item in found]
        if deployment not in names:
            missing = NotFoundError(f"Endpoint '{endpoint}' has no deployment named '{deployment}'.")
            raise missing.suggest(deployment, names)
        target = next(item for item in found if item.name == deployment)
        original = dict(info.traffic or {})
        original_mirror = dict(info.mirror_traffic or {})
        result = RolloutResult(
            endpoint=endpoint,
            deployment=deployment,
            steps=_plan(endpoint, original, original_mirror, deployment, percents, mirror_first, names),
            gates=checks,
            interval=seconds,
            original_traffic=original,
            original_mirror_traffic=original_mirror,
            final_traffic=dict(original),
            final_mirror_traffic=dict(original_mirror),
        )
        _check_ready(client, result, str(target.provisioning_state or ""))
        run = _Run(client, result, sample_request, sample_count, timeout, on_step, metrics_delay)
        try:
            run.steps()
        except BaseException as exc:
            error = run.restore(exc)
            raise error from (None if isinstance(exc, _GateFailed) else exc)
        finally:
            result.elapsed = time.perf_counter() - started
    return result


def _check_ready(client: RestClient, result: RolloutResult, state: str) -> None:
    """Refuse (before any traffic moves) a rollout to a deployment that is not Succeeded."""
    if state == "Succeeded":
        return
    endpoint, deployment = result.endpoint, result.deployment
    reason = failure_reason(client, endpoint, deployment) if state in ("Failed", "Canceled") else ""
    result.outcome = "error"
    result.reason = f"{deployment} is {state or 'in an unknown state'}" + (f": {reason}" if reason else "")
    waiting = state not in ("Failed", "Canceled", "")
    raise RolloutError(
        f"Rollout of {deployment} on {endpoint} refused: the deployment's provisioning state is "
        f"{state or 'unknown'}" + (f" ({reason})" if reason else "") + ", and only a Succeeded (ready) "
        "deployment can take traffic. No traffic was moved.",
        hint=f"Wait until it is Succeeded (%endpoint show {endpoint}), then roll out again."
        if waiting
        else f"Read its log (%endpoint logs {endpoint} {deployment}), fix the cause and deploy it again, "
        "then roll out.",
        result=result,
    )


def _plan(
    endpoint: str,
    original: dict[str, int],
    original_mirror: dict[str, int],
    deployment: str,
    percents: list[int],
    mirror_first: int | None,
    names: list[str],
) -> list[RolloutStep]:
    """The steps, each with the split it sets, all checked before anything changes."""
    planned: list[RolloutStep] = []
    if mirror_first is not None:
        if original.get(deployment, 0) > 0:
            raise UsageError(
                f"--mirror-first: {deployment} already takes {original[deployment]}% of the live traffic, "
                "and a deployment with live traffic cannot also receive mirrored copies.",
                hint="Drop --mirror-first, or set its live share to 0 first.",
            )
        mirror = {**{name: 0 for name in original_mirror}, deployment: mirror_first}
        planned.append(RolloutStep(0, deployment, mirror_first, dict(original), mirror, mirror=True))
    # live steps mirror nothing to the deployment (a deployment with live traffic cannot be mirrored)
    live_mirror = {name: value for name, value in original_mirror.items() if name != deployment}
    if deployment in original_mirror:
        live_mirror[deployment] = 0
    for index, percent in enumerate(percents, start=1):
        planned.append(
            RolloutStep(
                index,
                deployment,
                percent,
                split_traffic(original, deployment, percent, endpoint=endpoint),
                dict(live_mirror),
            )
        )
    for step in planned:
        validate_traffic(step.traffic, step.mirror_traffic, names)
    return planned


class _Run:
    """One rollout in progress: sets each step's split, measures, judges, restores."""

    def __init__(
        self,
        client: RestClient,
        result: RolloutResult,
        sample_request: Payload | None,
        sample_count: int,
        timeout: float | None,
        on_step: RolloutCallback | None,
        metrics_delay: float | None = None,
    ) -> None:
        self.metrics_delay = metrics_delay
        self.client = client
        self.result = result
        self.sample_request = sample_request
        self.sample_count = sample_count
        self.timeout = timeout
        self.on_step = on_step
        self.changed = False
        self.current: RolloutStep | None = None
        self.started = time.perf_counter()

    def emit(self, kind: str, message: str, step: RolloutStep | None = None) -> None:
        if self.on_step is not None:
            self.on_step(RolloutEvent(kind, message, self.result, step))

    def steps(self) -> None:
        result = self.result
        gates = ", ".join(str(gate) for gate in result.gates) or "none"
        self.emit(
            "planned",
            f"Rollout of {result.deployment} on {result.endpoint}: "
            + ", ".join(step.label for step in result.steps)
            + f"; {_seconds(result.interval)} per step; gates: {gates}",
        )
        for step in result.steps:
            self.current = step
            self.run_step(step)
        self.current = None
        result.outcome = "succeeded"
        self.emit(
            "finished",
            f"Rollout of {result.deployment} done in {time.perf_counter() - self.started:.1f} s: "
            f"traffic {_split(result.final_traffic)}",
        )

    def run_step(self, step: RolloutStep) -> None:
        client, result = self.client, self.result
        began = time.perf_counter()
        step.state = "running"
        self.changed = True
        shown = set_traffic(
            client, result.endpoint, step.traffic, mirror_traffic=step.mirror_traffic, timeout=self.timeout
        )
        result.final_traffic = dict(shown.traffic or {})
        result.final_mirror_traffic = dict(shown.mirror_traffic or {})
        began_at = datetime.now(timezone.utc)
        where = f"mirror {_split(step.mirror_traffic)}" if step.mirror else _split(step.traffic)
        self.emit("step-started", f"{step.label}: {where} for {_seconds(result.interval)}", step)
        client.sleep(result.interval)
        if result.gates:
            step.measurement = self.measure(step, began_at)
            step.checks = [
                gate.check(step.measurement, who=result.deployment, when=_short(step))
                for gate in result.gates
            ]
            failed = [check for check in step.checks if not check.passed]
            if not step.measurement.complete:
                step.reason = (
                    f"the metrics of {_short(step)} were still being published when the wait for them "
                    "ended; judging part of the requests could pass a failing deployment"
                )
            elif not step.measurement.requests:
                step.reason = (
                    f"no requests reached {result.deployment} during {_short(step)}; "
                    "send traffic or pass --sample-request"
                )
            elif failed:
                step.reason = "; ".join(check.message for check in failed)
            if step.reason:
                step.state = "failed"
                step.elapsed = time.perf_counter() - began
                self.emit("step-failed", f"{step.label}: failed: {step.reason}", step)
                raise _GateFailed(step)
        step.state = "passed"
        step.elapsed = time.perf_counter() - began
        self.emit("step-passed", f"{step.label}: passed" + _checks_text(step.checks), step)

    def measure(self, step: RolloutStep, began_at: datetime) -> Measurement:
        """The step's requests of the deployment: its metrics from ``began_at`` to now, else samples."""
        client, result = self.client, self.result
        window = window_metrics(
            client, result.endpoint, result.deployment, began_at, datetime.now(timezone.utc),
            delay=self.metrics_delay,
        )  # fmt: skip
        measured = Measurement.from_window(window, mirror=step.mirror)
        if measured.requests or not measured.complete or self.sample_request is None:
            return measured
        self.emit(
            "sampling",
            f"{step.label}: sending {self.sample_count} sample request(s) to {result.deployment}",
            step,
        )
        return self.sample()

    def sample(self) -> Measurement:
        """Send the sample request to the deployment ``sample_count`` times; status and latency of each."""
        assert self.sample_request is not None
        outcomes: list[tuple[int, float]] = []
        for _ in range(self.sample_count):
            began = time.perf_counter()
            try:
                answer = invoke(
                    self.client, self.result.endpoint, self.sample_request, deployment=self.result.deployment
                )
            except RestError as exc:  # refused, failed or unanswered: an error of the deployment
                outcomes.append((exc.status or 0, (time.perf_counter() - began) * 1000.0))
            else:
                outcomes.append((answer.status, answer.elapsed * 1000.0))
        return Measurement.from_samples(outcomes)

    def restore(self, exc: BaseException) -> BaseException:
        """Set the original split back (read back until reported); the error to raise."""
        result = self.result
        step = self.current
        interrupted = isinstance(exc, KeyboardInterrupt)
        if step is not None and step.state == "running":
            step.state = "failed"
            step.reason = "interrupted (Ctrl-C)" if interrupted else _first_line(exc)
        result.outcome = (
            "failed" if isinstance(exc, _GateFailed) else "interrupted" if interrupted else "error"
        )
        result.reason = step.reason if step is not None and step.reason else _first_line(exc)
        original = _split(result.original_traffic)
        if result.original_mirror_traffic and any(result.original_mirror_traffic.values()):
            original += f", mirror {_split(result.original_mirror_traffic)}"
        restored = not self.changed
        failure = ""
        if self.changed:
            with contextlib.suppress(Exception):
                self.emit("restoring", f"Restoring the original split: {original}", step)
            try:
                shown = set_traffic(
                    self.client,
                    result.endpoint,
                    result.original_traffic,
                    mirror_traffic=result.original_mirror_traffic,
                    timeout=self.timeout,
                )
                result.final_traffic = dict(shown.traffic or {})
                result.final_mirror_traffic = dict(shown.mirror_traffic or {})
                restored = True
            except BaseException as again:  # a second Ctrl-C, or an error: say so
                failure = _first_line(again) or type(again).__name__
        if restored:
            result.rolled_back = self.changed
            for other in result.steps:
                if other.state == "passed":
                    other.state = "rolled back"
            with contextlib.suppress(Exception):
                self.emit("restored", f"Traffic restored to the original split: {original}", step)
        where = step.label if step is not None else "the start"
        who = f"Rollout of {result.deployment} on {result.endpoint}"
        after = (
            f"Traffic was restored to the original split ({original})."
            if restored
            else f"Restoring the original split ({original}) failed too: {failure}. The endpoint may be "
            f"left at {_split(result.final_traffic)}."
        )
        fix = (
            "The steps and what they measured are in the error's .result."
            if restored
            else f"Set it back: %endpoint traffic {result.endpoint} "
            + " ".join(f"{name}={value}" for name, value in result.original_traffic.items())
        )
        if isinstance(exc, _GateFailed):
            return RolloutError(
                f"{who} failed at {where}: {result.reason}. {after}",
                hint=f"Look at the deployment's log (%endpoint logs {result.endpoint} {result.deployment}) "
                f"and try again. {fix}",
                result=result,
            )
        if interrupted:
            return RolloutInterruptedError(
                f"{who} was interrupted at {where}. {after}", hint=fix, result=result
            )
        hint = exc.hint if isinstance(exc, MlepError) and exc.hint else None
        return RolloutError(
            f"{who} stopped at {where}: {result.reason}. {after}",
            hint=" ".join(part for part in (hint, fix) if part),
            result=result,
        )


class _GateFailed(Exception):
    """A step's gates were not met (internal: becomes a RolloutError once traffic is restored)."""

    def __init__(self, step: RolloutStep) -> None:
        super().__init__(step.reason)
        self.step = step


def _split(values: dict[str, int] | None) -> str:
    return format_split(values, zeros=False)


def _short(step: RolloutStep) -> str:
    return "the mirror step" if step.mirror else f"step {step.index}"


def _checks_text(checks: list[GateCheck]) -> str:
    if not checks:
        return ""
    return " (" + ", ".join(check.message for check in checks) + ")"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:g} s"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
