"""``%endpoint scale NAME DEPLOYMENT --instance-count N``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("deployment", metavar="DEPLOYMENT", help="the deployment")
    parser.add_argument(
        "--instance-count", type=int, required=True, metavar="N", help="how many instances serve it"
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from ...specs import validate_instance_count

    validate_instance_count(args.instance_count, "--instance-count")
    with ctx.client(args) as client:
        ops.get_deployment(client, args.name, args.deployment)
        scaled = ops.scale_deployment(
            client, args.name, args.deployment, args.instance_count, progress=ctx.progress
        )
        return ops.EndpointDetails(ops.get_endpoint(client, args.name), [scaled])


VERB = Verb(
    name="scale",
    help="change a deployment's instance count",
    examples=("%endpoint scale my-endpoint blue --instance-count 2",),
    arguments=_arguments,
    run=_run,
)
