"""``%endpoint update NAME [--traffic blue=90 green=10] [--mirror green=10] [--tag K=V …] [--description T]``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import parse_env_vars
from .._context import Context, parse_split
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--traffic", nargs="+", metavar="DEPLOYMENT=PERCENT", help="the new live split")
    parser.add_argument(
        "--mirror", nargs="*", metavar="DEPLOYMENT=PERCENT", help="mirror traffic (none: stop)"
    )
    parser.add_argument("--tag", action="append", metavar="KEY=VALUE", help="set a tag (repeatable)")
    parser.add_argument("--description", help="the endpoint's description")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
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


VERB = Verb(
    name="update",
    help="update an endpoint: traffic, mirror traffic, tags, description",
    examples=("%endpoint update my-endpoint --mirror green=10 --tag stage=test  # shadow traffic",),
    arguments=_arguments,
    run=_run,
)
