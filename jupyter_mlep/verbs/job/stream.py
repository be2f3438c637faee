"""``%job stream NAME``: follow the job's log until it ends (in a live front end: the job widget)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._follow import follow, follow_sweep, live, watch


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        job = ops.get_job(client, args.name)
        if job.job_type == "Sweep":  # its trials' states until it ends (live: the sweep widget)
            return follow_sweep(ctx, args, client, job)
        return watch(ctx, args, job) if live(ctx) else follow(ctx, client, job)


VERB = Verb(
    name="stream",
    help="follow a job's log until the job ends (Ctrl-C stops following; the job goes on)",
    examples=("%job stream train  # its log until it ends (at once for an ended job)",),
    arguments=_arguments,
    run=_run,
)
