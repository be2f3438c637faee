"""``%endpoint list``: the endpoint dashboard in a live front end, else a table."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    """No options besides --local."""


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    if ctx.mode == "interactive":
        from ...widgets.dashboard import EndpointDashboard

        return EndpointDashboard(lambda: ctx.client(args))
    with ctx.client(args) as client:
        return ops.list_all(client)


VERB = Verb(
    name="list",
    help="list the workspace's online endpoints",
    examples=("%endpoint list",),
    arguments=_arguments,
    run=_run,
)
