"""``%batch show NAME``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the batch endpoint")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.describe_batch_endpoint(client, args.name)


VERB = Verb(
    name="show",
    help="show a batch endpoint and its deployments",
    examples=("%batch show my-batch",),
    arguments=_arguments,
    run=_run,
)
