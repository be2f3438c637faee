"""``%batch list``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    """No options besides --local."""


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.list_batch_endpoints(client)


VERB = Verb(
    name="list",
    help="list the workspace's batch endpoints",
    examples=("%batch list",),
    arguments=_arguments,
    run=_run,
)
