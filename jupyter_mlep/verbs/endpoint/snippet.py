"""``%endpoint snippet NAME [--lang python|curl|javascript|csharp] [--deployment D]
[--request-file F | --data $var] [--out PATH]``: a ready-to-run client program for the endpoint."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._context import Context
from .._payload import payload_value
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    from ...operations._snippet import SNIPPET_LANGUAGES

    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument(
        "--lang", choices=SNIPPET_LANGUAGES, default="python", help="the language (default python)"
    )
    parser.add_argument("--deployment", help="pin the requests to this deployment")
    parser.add_argument(
        "--request-file", metavar="FILE", help="the JSON request to send (default: the OpenAPI example)"
    )
    parser.add_argument("--data", help="the request as a $variable or literal JSON (quoted)")
    parser.add_argument("--out", metavar="PATH", help="write the program to this file or folder")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    request: Any = None
    if args.request_file:
        request = Path(args.request_file)
    elif args.data is not None:
        request = payload_value(ctx.value(args.data), "--data")
    with ctx.client(args) as client:
        result = ops.get_snippet(
            client, args.name, language=args.lang, deployment=args.deployment, request=request
        )
    if args.out:
        ctx.say(f"Wrote {result.save(args.out)}; set {result.variable} before running it.")
    return result


VERB = Verb(
    name="snippet",
    help="write a ready-to-run client (python, curl, javascript, csharp) that scores the endpoint",
    examples=(
        "%endpoint snippet my-endpoint --lang curl --out score.sh",
        "%endpoint snippet my-endpoint --lang python --deployment blue --request-file sample-request.json",
    ),
    arguments=_arguments,
    run=_run,
    objects=("data",),
)
