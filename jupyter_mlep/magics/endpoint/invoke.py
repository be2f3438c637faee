"""``%endpoint invoke NAME [--deployment D] (--request-file F | --data $var | cell body)``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..._arguments import expand_variable
from ..._errors import UsageError
from ._context import Context

HELP = "score a request; returns the parsed response"
EXAMPLE = "r = %endpoint invoke my-endpoint --request-file sample-request.json   |   %endpoint invoke my-endpoint --data $payload"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--deployment", help="score on this deployment (whatever the traffic)")
    parser.add_argument("--request-file", metavar="FILE", help="a JSON request file")
    parser.add_argument("--data", help="a $variable (dict, list, str or bytes) or literal JSON")
    parser.add_argument(
        "--full", action="store_true", help="return the whole answer (status, deployment, time)"
    )


def payload(ctx: Context, args: argparse.Namespace) -> Any:
    """The request: a file, a variable, literal JSON or the cell body."""
    given = [bool(args.request_file), args.data is not None, bool(ctx.cell and ctx.cell.strip())]
    if sum(given) != 1:
        raise UsageError(
            "%endpoint invoke needs exactly one of --request-file FILE, --data $variable, or a cell body.",
            hint=EXAMPLE,
        )
    if args.request_file:
        return Path(expand_variable(args.request_file, ctx.namespace, "--request-file") or "")
    if args.data is not None:
        data: str = args.data
        if data.startswith("$") and data[1:].isidentifier():
            if data[1:] not in ctx.namespace:
                raise UsageError(f"--data {data}: there is no variable named {data[1:]!r}.")
            return ctx.namespace[data[1:]]
        return data
    return str(ctx.cell)


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    request = payload(ctx, args)
    with ctx.client(args) as client:
        result = ops.invoke(client, args.name, request, deployment=args.deployment)
    if args.full or not ctx.magic:
        return result
    ctx.say(f"{result.status} from {result.deployment or args.name} in {result.elapsed * 1000:.0f} ms")
    return result.body
