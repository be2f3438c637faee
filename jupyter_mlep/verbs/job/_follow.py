"""What the verbs that start or follow a job share: ``--no-wait``, and following the job: the live
job widget in interactive mode (the cell returns at once), else its statuses and its log until it
ends, then its final state with its metrics (a table, and the charts in the HTML)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..._errors import JobFailedError, MlepError
from .._context import Context

if TYPE_CHECKING:
    from ...operations import JobDetails
    from ...rest import RestClient


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    """``--no-wait``."""
    parser.add_argument("--no-wait", action="store_true", help="return once the job is created (it runs on)")


def finish(ctx: Context, args: argparse.Namespace, client: RestClient, job: JobDetails) -> Any:
    """The created ``job`` with ``--no-wait``; else the job widget (interactive), else :func:`follow` it."""
    ctx.say(f"{job.name}: {job.status}")
    if args.no_wait:
        return job
    if job.job_type == "Sweep":
        return follow_sweep(ctx, args, client, job)
    if live(ctx):
        return watch(ctx, args, job)
    return follow(ctx, client, job)


def live(ctx: Context) -> bool:
    """Whether a job is followed by the live job widget (a magic in a live front end)."""
    return ctx.magic and ctx.mode == "interactive"


def watch(ctx: Context, args: argparse.Namespace, job: JobDetails) -> JobDetails:
    """Display the job widget (it follows the job in the background); ``job`` at once."""
    from ...widgets import watch_job

    return watch_job(lambda: ctx.client(args), job)


def _stopped_following(kind: str, job: JobDetails) -> JobFailedError:
    """The error of Ctrl-C while following: the job goes on, and how to follow or cancel it."""
    return JobFailedError(
        f"Stopped following {kind} {job.name}; it goes on.",
        job=job,
        hint=f"Follow it again with %job stream {job.name}, or cancel it with %job cancel {job.name}.",
    )


def follow_sweep(ctx: Context, args: argparse.Namespace, client: RestClient, job: JobDetails) -> Any:
    """A sweep: the live sweep widget (interactive), else its trials' states until it ends, then its
    trials, best trial and charts (:class:`~jupyter_mlep.operations.SweepDetails`)."""
    from ... import operations as ops

    if live(ctx):
        from ...widgets import watch_sweep

        return watch_sweep(lambda: ctx.client(args), ops.get_sweep(client, job.name))
    try:
        sweep = ops.follow_sweep(client, job.name, on_text=ctx.say)
    except KeyboardInterrupt:
        raise _stopped_following("sweep", job) from None
    if sweep.state != "Completed":
        raise JobFailedError(
            f"Sweep {job.name} ended {sweep.state}" + (f": {sweep.job.error}" if sweep.job.error else "."),
            job=sweep.job,
            hint=f"See its trials with %job show {job.name}.",
        )
    return sweep


def follow(ctx: Context, client: RestClient, job: JobDetails) -> JobDetails:
    """Show the job's statuses and log until it ends; the ended job, with its metrics.

    A job that ends ``Failed`` or ``Canceled`` raises :class:`~jupyter_mlep.JobFailedError`; Ctrl-C
    stops following (the job goes on) and says how to cancel it.
    """
    from ... import operations as ops

    try:
        job = ops.stream_job(
            client,
            job.name,
            on_text=lambda _log, text: ctx.say(text.rstrip("\n")),
            on_status=lambda status: ctx.say(f"{job.name}: {status}"),
        )
    except KeyboardInterrupt:
        raise _stopped_following("job", job) from None
    if job.status != "Completed":
        raise JobFailedError(
            f"Job {job.name} ended {job.status}" + (f": {job.error}" if job.error else "."),
            job=job,
            hint=f"See its log with %job logs {job.name}.",
        )
    try:
        metrics = ops.get_job_metrics(client, job.name)
    except MlepError as exc:  # the job completed: its metrics are a bonus, not a failure
        ctx.say(f"The metrics of {job.name} could not be read: {exc}")
        return job
    return job.with_metrics(metrics)
