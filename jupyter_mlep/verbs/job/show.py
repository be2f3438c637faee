"""``%job show NAME`` (a job still running, in a live front end: the job widget; a sweep: its trials)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._follow import live, watch


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        job = ops.get_job(client, args.name)
        if job.job_type == "Sweep":  # its trials, the best one and the charts (live: the sweep widget)
            sweep = ops.get_sweep(client, args.name)
            if live(ctx) and not job.ended:
                from ...widgets import watch_sweep

                return watch_sweep(lambda: ctx.client(args), sweep)
            return sweep
    return watch(ctx, args, job) if live(ctx) and not job.ended else job


VERB = Verb(
    name="show",
    help="show a job: status, times, inputs, outputs, error",
    examples=("%job show train",),
    arguments=_arguments,
    run=_run,
)
