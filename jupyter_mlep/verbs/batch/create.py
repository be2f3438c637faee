"""``%batch create NAME | -f endpoint.yml``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._errors import UsageError
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help="endpoint name (default: the YAML file's name)"
    )
    parser.add_argument("-f", "--file", help="an Azure ML CLI v2 batch endpoint YAML file")
    parser.add_argument("--no-wait", action="store_true", help="return once the service accepted it")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from ...specs import BatchEndpoint, load_batch_endpoint

    if args.file:
        spec = load_batch_endpoint(args.file, overrides={"name": args.name} if args.name else None)
    elif args.name:
        spec = BatchEndpoint(name=args.name)
    else:
        raise UsageError("%batch create needs a NAME or -f endpoint.yml.", hint="Example: " + VERB.example)
    with ctx.client(args) as client:
        ops.create_batch_endpoint(client, spec, wait=not args.no_wait, progress=ctx.progress)
        return ops.describe_batch_endpoint(client, spec.name)


VERB = Verb(
    name="create",
    help="create (or update) a batch endpoint",
    examples=("%batch create -f batch-endpoint.yml", "%batch create my-batch"),
    arguments=_arguments,
    run=_run,
)
