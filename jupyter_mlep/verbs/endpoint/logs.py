"""``%endpoint logs NAME DEPLOYMENT [--lines N] [--container storage-initializer] [--follow]``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import positive_int
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("deployment", metavar="DEPLOYMENT", help="the deployment")
    parser.add_argument(
        "--lines", type=positive_int, default=100, metavar="N", help="how many lines (default 100)"
    )
    parser.add_argument(
        "--container",
        choices=["inference-server", "storage-initializer"],
        default="inference-server",
        help="which container's log (default inference-server)",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="live logs widget; static mode: print new lines until interrupted",
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        ops.get_deployment(client, args.name, args.deployment)  # "did you mean" for wrong names
        if not args.follow:
            content = ops.get_logs(
                client, args.name, args.deployment, lines=args.lines, container=args.container
            )
            return ops.LogsResult(args.name, args.deployment, args.container, content)
    from ...widgets import follow_logs

    # interactive: the live logs widget (the kernel stays free); else new lines until interrupted
    return follow_logs(
        ctx.mode if ctx.magic else "static",
        lambda: ctx.client(args),
        args.name,
        args.deployment,
        container=args.container,
        lines=args.lines,
        say=ctx.say,
    )


VERB = Verb(
    name="logs",
    help="show the last lines of a deployment's log",
    examples=("%endpoint logs my-endpoint green --lines 50",),
    arguments=_arguments,
    run=_run,
)
