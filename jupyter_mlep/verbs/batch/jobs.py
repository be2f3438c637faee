"""``%batch jobs NAME``, ``%batch jobs NAME --job JOB``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the batch endpoint")
    parser.add_argument("--job", metavar="JOB", help="one job: its progress, errors and output")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        if args.job:
            job = ops.get_batch_job(client, args.job)
        else:
            return ops.list_batch_jobs(client, args.name)
    if ctx.magic and not job.ended:
        from ...widgets.batch import watch_batch

        return watch_batch(ctx.mode, lambda: ctx.client(args), job, wait=False, say=ctx.say)
    return job


VERB = Verb(
    name="jobs",
    help="list the batch jobs of an endpoint (or show one: progress, errors, output)",
    examples=("%batch jobs my-batch", "%batch jobs my-batch --job JOB"),
    arguments=_arguments,
    run=_run,
)
