"""``%job cancel NAME``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job")
    parser.add_argument("--no-wait", action="store_true", help="return once the service accepted it")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.cancel_job(client, args.name, wait=not args.no_wait)


VERB = Verb(
    name="cancel",
    help="cancel a job (its processes are stopped; it ends Canceled)",
    examples=("%job cancel train  # an ended job stays as it ended",),
    arguments=_arguments,
    run=_run,
)
