"""``%job list [--experiment E] [--status S]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--experiment", help="only the jobs of this experiment")
    parser.add_argument("--status", help="only the jobs in this status (Running, Completed, Failed, …)")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.list_jobs(client, experiment=args.experiment, status=args.status)


VERB = Verb(
    name="list",
    help="list the workspace's jobs, newest first",
    examples=("%job list", "%job list --experiment diabetes --status Completed"),
    arguments=_arguments,
    run=_run,
)
