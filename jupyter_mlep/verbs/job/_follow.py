"""What the verbs that start or follow a job share: ``--no-wait``, and following the job (its
statuses and its log) until it ends."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..._errors import JobFailedError
from .._context import Context

if TYPE_CHECKING:
    from ...operations import JobDetails
    from ...rest import RestClient


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    """``--no-wait``."""
    parser.add_argument("--no-wait", action="store_true", help="return once the job is created (it runs on)")


def finish(ctx: Context, args: argparse.Namespace, client: RestClient, job: JobDetails) -> JobDetails:
    """The created ``job`` with ``--no-wait``; else :func:`follow` it."""
    ctx.say(f"{job.name}: {job.status}")
    return job if args.no_wait else follow(ctx, client, job)


def follow(ctx: Context, client: RestClient, job: JobDetails) -> JobDetails:
    """Show the job's statuses and log until it ends; the ended job.

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
        raise JobFailedError(
            f"Stopped following job {job.name}; it goes on.",
            job=job,
            hint=f"Follow it again with %job stream {job.name}, or cancel it with %job cancel {job.name}.",
        ) from None
    if job.status != "Completed":
        raise JobFailedError(
            f"Job {job.name} ended {job.status}" + (f": {job.error}" if job.error else "."),
            job=job,
            hint=f"See its log with %job logs {job.name}.",
        )
    return job
