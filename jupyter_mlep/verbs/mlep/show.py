"""``%mlep show KIND NAME [--version V] [--endpoint-name E]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._kinds import add_endpoint_name, add_kind


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_kind(parser)
    parser.add_argument("name", metavar="NAME", help="its name")
    parser.add_argument("--version", "-v", help="an asset's version (default: its latest)")
    add_endpoint_name(parser)


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.show_resource(
            client, args.kind, args.name, version=args.version, endpoint_name=args.endpoint_name
        )


VERB = Verb(
    name="show",
    help="show one model, environment, data asset, code, compute, datastore, job, endpoint or deployment (online or batch)",
    examples=(
        "%mlep show model my-model --version 1",
        "%mlep show online-deployment blue --endpoint-name my-endpoint",
    ),
    arguments=_arguments,
    run=_run,
)
