"""``%mlep delete KIND NAME [--version V] [--endpoint-name E]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._kinds import add_endpoint_name, add_kind


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_kind(parser)
    parser.add_argument("name", metavar="NAME", help="its name")
    parser.add_argument("--version", "-v", help="delete only this version of an asset")
    add_endpoint_name(parser)
    parser.add_argument(
        "--yes", "-y", action="store_true", help="accepted as az ml takes it; nothing asks for a confirmation"
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        said = ops.delete_resource(
            client,
            args.kind,
            args.name,
            version=args.version,
            endpoint_name=args.endpoint_name,
            progress=ctx.progress,
        )
    ctx.say(said)
    return None


VERB = Verb(
    name="delete",
    help="delete a resource: an asset version (or the whole asset), a compute, an endpoint or a deployment",
    examples=(
        "%mlep delete compute cpu-cluster",
        "%mlep delete data requests --version 1",
    ),
    arguments=_arguments,
    run=_run,
)
