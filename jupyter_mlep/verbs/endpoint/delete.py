"""``%endpoint delete NAME [--deployment D]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--deployment", help="delete only this deployment (it must take no traffic)")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        if args.deployment:
            ops.get_deployment(client, args.name, args.deployment)
            ops.delete_deployment(client, args.name, args.deployment, progress=ctx.progress)
            ctx.say(f"Deleted deployment {args.deployment} of {args.name}.")
            return None
        ops.get_endpoint(client, args.name)
        ops.delete_endpoint(client, args.name, progress=ctx.progress)
        ctx.say(f"Deleted endpoint {args.name}.")
        return None


VERB = Verb(
    name="delete",
    help="delete an endpoint (and its deployments), or one deployment",
    examples=(
        "%endpoint delete my-endpoint --deployment green  # it must take no traffic",
        "%endpoint delete my-endpoint",
        "%endpoint delete my-token-endpoint",
    ),
    arguments=_arguments,
    run=_run,
)
