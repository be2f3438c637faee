"""``%mlep list KIND [--name N] [--endpoint-name E]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._kinds import add_endpoint_name, add_kind


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_kind(parser)
    parser.add_argument("--name", "-n", help="list the versions of this asset")
    add_endpoint_name(parser)


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.list_resources(client, args.kind, name=args.name, endpoint_name=args.endpoint_name)


VERB = Verb(
    name="list",
    help="list the workspace's resources of one kind (or the versions of one asset)",
    examples=(
        "%mlep list compute",
        "%mlep list data --name requests  # the versions of one asset",
    ),
    arguments=_arguments,
    run=_run,
)
