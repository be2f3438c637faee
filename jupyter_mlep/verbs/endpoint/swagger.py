"""``%endpoint swagger NAME [--deployment D] [--version 2|3|3.1]``: the scoring script's OpenAPI
document, as the inference server serves it at ``/swagger.json``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--deployment", help="the deployment (default: the one the router picks)")
    parser.add_argument(
        "--version",
        choices=["2", "3", "3.1"],
        default=None,
        help="the OpenAPI version (default: the inference server's)",
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.get_swagger(client, args.name, deployment=args.deployment, version=args.version)


VERB = Verb(
    name="swagger",
    help="show a deployment's OpenAPI (swagger) document, as its scoring script describes itself",
    examples=("%endpoint swagger my-endpoint --deployment blue --version 3",),
    arguments=_arguments,
    run=_run,
)
