"""``%endpoint invoke NAME [--deployment D] (--request-file F | --data $var | cell body) [--full]``.

The request is checked here before it is sent (invalid JSON is reported with its position, arrays
are converted); in a notebook a large answer is shown as a bounded preview, the value holds it all.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..._errors import UsageError
from .._context import Context
from .._payload import json_text, payload_value
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--deployment", help="score on this deployment (whatever the traffic)")
    parser.add_argument("--request-file", metavar="FILE", help="a JSON request file")
    parser.add_argument(
        "--data",
        help="a $variable (dict, list, array, pandas DataFrame: sent as {input_data: split}, str or bytes) "
        "or literal JSON (quoted)",
    )
    parser.add_argument(
        "--full", action="store_true", help="return the whole answer (status, deployment, time)"
    )


def payload(ctx: Context, args: argparse.Namespace) -> Any:
    """The request: a file, a variable, literal JSON or the cell body."""
    given = [bool(args.request_file), args.data is not None, bool(ctx.cell and ctx.cell.strip())]
    if sum(given) != 1:
        raise UsageError(
            "%endpoint invoke needs exactly one of --request-file FILE, --data $variable, or a cell body.",
            hint="Example: " + VERB.example,
        )
    if args.request_file:
        return Path(args.request_file)
    if args.data is not None:
        return payload_value(ctx.value(args.data), "--data")
    return json_text(str(ctx.cell), "The cell body")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from .._preview import preview

    request = payload(ctx, args)
    with ctx.client(args) as client:
        result = ops.invoke(client, args.name, request, deployment=args.deployment)
    if args.full or not ctx.magic:
        return result
    ctx.say(f"{result.status} from {result.deployment or args.name} in {result.elapsed * 1000:.0f} ms")
    return preview(result.body)


VERB = Verb(
    name="invoke",
    help="score a request; returns the parsed response",
    examples=(
        "r = %endpoint invoke my-endpoint --request-file sample-request.json  # the parsed response",
        "%endpoint invoke my-endpoint --deployment green --data '{\"data\": [[1,2,3,4,5,6,7,8,9,10]]}'"
        "  # one deployment, whatever the split",
        "r = %endpoint invoke my-endpoint --data $payload  # a dict, list, array, str or bytes variable",
    ),
    arguments=_arguments,
    run=_run,
    objects=("data",),
)
