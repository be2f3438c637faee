"""``%endpoint show NAME [--deployment D]``."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context

HELP = "show an endpoint and its deployments (or one deployment)"
EXAMPLE = "%endpoint show my-endpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--deployment", help="show this deployment only")


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        if args.deployment:
            endpoint = ops.get_endpoint(client, args.name)
            return ops.EndpointDetails(endpoint, [ops.get_deployment(client, args.name, args.deployment)])
        return ops.describe_endpoint(client, args.name)
