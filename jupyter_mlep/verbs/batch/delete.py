"""``%batch delete NAME [--deployment D]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the batch endpoint")
    parser.add_argument("--deployment", help="delete only this deployment")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        ops.delete_batch_endpoint(client, args.name, deployment=args.deployment, progress=ctx.progress)
    ctx.say(
        f"Deleted deployment {args.deployment} of {args.name}."
        if args.deployment
        else f"Deleted {args.name}."
    )
    return None


VERB = Verb(
    name="delete",
    help="delete a batch endpoint (and its deployments), or one deployment",
    examples=("%batch delete my-batch --deployment green  # not the default one", "%batch delete my-batch"),
    arguments=_arguments,
    run=_run,
)
