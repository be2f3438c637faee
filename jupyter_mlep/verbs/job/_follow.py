"""What the verbs that start a job share: ``--no-wait``, and following the job until it ends."""

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
    """The created ``job`` with ``--no-wait``; else the job once it has ended, reporting each status.

    A job that ends ``Failed`` or ``Canceled`` raises :class:`~jupyter_mlep.JobFailedError`.
    """
    from ... import operations as ops

    ctx.say(f"{job.name}: {job.status}")
    if args.no_wait:
        return job
    try:
        job = ops.wait_for_job(client, job.name, on_change=lambda now: ctx.say(f"{now.name}: {now.status}"))
    except KeyboardInterrupt:
        raise JobFailedError(
            f"Stopped following job {job.name}; it goes on.",
            job=job,
            hint=f"Follow it again with %job show {job.name}, or cancel it with %job cancel {job.name}.",
        ) from None
    if job.status != "Completed":
        raise JobFailedError(
            f"Job {job.name} ended {job.status}" + (f": {job.error}" if job.error else "."),
            job=job,
            hint=f"See its details with %job show {job.name}.",
        )
    return job
