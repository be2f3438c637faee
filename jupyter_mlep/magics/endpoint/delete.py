"""``%endpoint delete NAME [--deployment D]``."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context

HELP = "delete an endpoint (and its deployments), or one deployment"
EXAMPLE = "%endpoint delete my-endpoint   |   %endpoint delete my-endpoint --deployment green"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--deployment", help="delete only this deployment (it must take no traffic)")


def run(ctx: Context, args: argparse.Namespace) -> Any:
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
