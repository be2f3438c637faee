"""``%batch dry-run NAME --input ./data [--deployment D]`` or ``%batch dry-run -f deployment.yml --input ./data``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import positive_int
from ..._errors import UsageError
from .._context import Context
from .._registry import Verb
from ._spec import add_deployment_arguments, deployment_from_args


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="the batch endpoint (or give -f)")
    parser.add_argument("--input", required=True, help="a local folder (or file) of inputs")
    parser.add_argument("--deployment", help="the endpoint's deployment (default: its default)")
    add_deployment_arguments(parser)
    parser.set_defaults(mini_batch_size=None)
    parser.add_argument(
        "--files", type=positive_int, metavar="N", help="score N files (default: one mini-batch)"
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    if args.file or args.model:
        fallback = None if args.file else "dry-run"  # a file names its own deployment
        spec = deployment_from_args(
            args, endpoint=args.name or fallback, name=args.deployment or fallback, verb="dry-run"
        )
        return ops.dry_run(None, spec, args.input, mini_batch_size=args.files)
    if not args.name:
        raise UsageError("%batch dry-run needs NAME or -f deployment.yml.", hint="Example: " + VERB.example)
    with ctx.client(args) as client:
        deployment = args.deployment or ops.get_batch_endpoint(client, args.name).default_deployment
        if not deployment:
            raise UsageError(
                f"Batch endpoint {args.name} has no default deployment.",
                hint=f"Name one: %batch dry-run {args.name} --input {args.input} --deployment NAME",
            )
        spec = ops.get_batch_deployment(client, args.name, deployment)
        return ops.dry_run(client, spec, args.input, mini_batch_size=args.files or args.mini_batch_size)


VERB = Verb(
    name="dry-run",
    help="score the first mini-batch in this Python, with no job, to debug run() quickly",
    examples=(
        "%batch dry-run my-batch --input ./data",
        "%batch dry-run -f batch-deployment.yml --input ./data  # before deploying",
    ),
    arguments=_arguments,
    run=_run,
)
