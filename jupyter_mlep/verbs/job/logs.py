"""``%job logs NAME [--lines N]``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import positive_int
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job")
    parser.add_argument("--lines", type=positive_int, metavar="N", help="only the last N lines of each log")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.get_job_logs(client, args.name, lines=args.lines)


VERB = Verb(
    name="logs",
    help="show a job's log (user_logs/std_log.txt), also while it runs",
    examples=("%job logs train --lines 50",),
    arguments=_arguments,
    run=_run,
)
