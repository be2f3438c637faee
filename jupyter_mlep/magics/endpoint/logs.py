"""``%endpoint logs NAME DEPLOYMENT [--lines N] [--container storage-initializer] [--follow]``."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context

HELP = "show the last lines of a deployment's log"
EXAMPLE = "%endpoint logs my-endpoint blue --lines 50"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("deployment", metavar="DEPLOYMENT")
    parser.add_argument("--lines", type=int, default=100, help="how many lines (default 100)")
    parser.add_argument(
        "--container", choices=["inference-server", "storage-initializer"], default="inference-server"
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="live logs widget; static mode: print new lines until interrupted",
    )


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        ops.get_deployment(client, args.name, args.deployment)  # "did you mean" for wrong names
        if not args.follow:
            content = ops.get_logs(
                client, args.name, args.deployment, lines=args.lines, container=args.container
            )
            return ops.LogsResult(args.name, args.deployment, args.container, content)
    from ...widgets._views import follow_logs

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
