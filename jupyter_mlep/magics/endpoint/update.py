"""``%endpoint update NAME [--traffic blue=90 green=10] [--mirror green=10] [--tag K=V …] [--description T]``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import parse_env_vars
from ._context import Context, parse_split

HELP = "update an endpoint: traffic, mirror traffic, tags, description"
EXAMPLE = "%endpoint update my-endpoint --mirror green=10 --tag stage=test"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--traffic", nargs="+", metavar="DEPLOYMENT=PERCENT")
    parser.add_argument("--mirror", nargs="*", metavar="DEPLOYMENT=PERCENT")
    parser.add_argument("--tag", action="append", metavar="KEY=VALUE", help="set a tag (repeatable)")
    parser.add_argument("--description")


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    split = parse_split(args.traffic, "--traffic")
    mirror = None if args.mirror is None else (parse_split(args.mirror, "--mirror") or {})
    with ctx.client(args) as client:
        current = ops.get_endpoint(client, args.name)
        if args.tag or args.description is not None:
            changes: dict[str, Any] = {}
            if args.tag:
                changes["tags"] = {**(current.tags or {}), **parse_env_vars(args.tag, "--tag")}
            if args.description is not None:
                changes["description"] = args.description
            ops.create_endpoint(client, current.model_copy(update=changes), progress=ctx.progress)
        if split is not None or mirror is not None:
            ops.update_traffic(client, args.name, split, mirror_traffic=mirror, progress=ctx.progress)
        return ops.describe_endpoint(client, args.name)
