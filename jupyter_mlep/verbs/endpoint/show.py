"""``%endpoint show NAME [--deployment D]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--deployment", help="show this deployment only")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        if args.deployment:
            endpoint = ops.get_endpoint(client, args.name)
            details = ops.EndpointDetails(endpoint, [ops.get_deployment(client, args.name, args.deployment)])
        else:
            details = ops.describe_endpoint(client, args.name)
    if ctx.magic and ctx.mode == "interactive":  # a live status widget per deployment
        from ...widgets import show_status

        return show_status(ctx.mode, lambda: ctx.client(args), details)
    return details


VERB = Verb(
    name="show",
    help="show an endpoint and its deployments (or one deployment)",
    examples=("%endpoint show my-endpoint",),
    arguments=_arguments,
    run=_run,
)
