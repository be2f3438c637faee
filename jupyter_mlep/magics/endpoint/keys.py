"""``%endpoint keys NAME [--regenerate primary|secondary]`` (always shown masked)."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context

HELP = "show an endpoint's keys masked, or regenerate one (read them whole with jupyter_mlep.get_keys)"
EXAMPLE = "%endpoint keys my-endpoint --regenerate primary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--regenerate", choices=["primary", "secondary"], help="replace this key")


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        ops.get_endpoint(client, args.name)
        if args.regenerate:
            ops.regenerate_key(client, args.name, args.regenerate)
        return ops.KeysResult(args.name, ops.get_keys(client, args.name), args.regenerate)
