"""``%endpoint logs NAME DEPLOYMENT [--lines N] [--container storage-initializer] [--follow]``."""

from __future__ import annotations

import argparse
import time
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
    parser.add_argument("--follow", action="store_true", help="print new lines until interrupted")


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        ops.get_deployment(client, args.name, args.deployment)  # "did you mean" for wrong names
        content = ops.get_logs(client, args.name, args.deployment, lines=args.lines, container=args.container)
        if args.follow:
            ctx.say(content.rstrip())
            seen = ops.get_logs(client, args.name, args.deployment, lines=None, container=args.container)
            try:
                while True:
                    time.sleep(2.0)
                    now = ops.get_logs(
                        client, args.name, args.deployment, lines=None, container=args.container
                    )
                    if now != seen:
                        new = now[len(seen) :] if now.startswith(seen) else now
                        ctx.say(new.rstrip())
                    seen = now
            except KeyboardInterrupt:
                return None
    return ops.LogsResult(args.name, args.deployment, args.container, content)
