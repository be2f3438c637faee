"""``%endpoint traffic NAME [blue=90 green=10] [--mirror green=10]`` (no assignments: show; in a live
front end, as sliders)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context, parse_split
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("split", nargs="*", metavar="DEPLOYMENT=PERCENT", help="the new live split")
    parser.add_argument(
        "--mirror", nargs="*", metavar="DEPLOYMENT=PERCENT", help="mirror traffic (none: stop)"
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    split = parse_split(args.split, "traffic")
    mirror = None if args.mirror is None else (parse_split(args.mirror, "--mirror") or {})
    if split is None and mirror is None and ctx.mode == "interactive":
        from ...widgets.traffic import TrafficWidget

        return TrafficWidget(lambda: ctx.client(args), args.name)
    with ctx.client(args) as client:
        if split is None and mirror is None:
            return ops.get_traffic(client, args.name)
        return ops.update_traffic(client, args.name, split, mirror_traffic=mirror, progress=ctx.progress)


VERB = Verb(
    name="traffic",
    help="show or set the live (and mirror) traffic split",
    examples=(
        "%endpoint traffic my-endpoint blue=90 green=10",
        "%endpoint traffic my-endpoint --mirror  # stop mirroring",
        "%endpoint traffic my-endpoint blue=100 green=0  # green takes no traffic: it can be deleted",
    ),
    arguments=_arguments,
    run=_run,
)
