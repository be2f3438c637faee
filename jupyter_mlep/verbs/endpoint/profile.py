"""``%endpoint profile NAME DEPLOYMENT (--request-file F | --data $var | cell body)
[--rps R | --concurrency 1,2,4,8] [--duration 30s] [--direct] [--target-rps R] [--target-p95-ms MS]``.

Sample requests: a JSON file (one request), a ``.jsonl`` file (one request a line), a
``$variable`` (one request, or a list of requests: dicts, strings or bytes), or the cell body (one
JSON request, or one a line). In a live front end a widget shows the run; the result is returned.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..._errors import UsageError
from .._context import Context
from .._payload import json_text, payload_value
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("deployment", metavar="DEPLOYMENT", help="the deployment to profile")
    parser.add_argument(
        "--request-file", metavar="FILE", help="a JSON request, or a .jsonl file with one request a line"
    )
    parser.add_argument("--data", help="a $variable: one request, or a list of requests")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--rps", type=float, metavar="R", help="a fixed rate of requests per second")
    load.add_argument(
        "--concurrency", metavar="N,N…", help="clients at once, one level each (default 1,2,4,8)"
    )
    parser.add_argument("--duration", default="30s", help="how long each level runs (default 30s)")
    parser.add_argument(
        "--direct", action="store_true", help="send to the deployment's servers, not the router (local)"
    )
    parser.add_argument(
        "--target-rps", type=float, metavar="R", help="the rate to size for (default: the best measured)"
    )
    parser.add_argument(
        "--target-p95-ms", type=float, metavar="MS", help="the p95 latency to size for (default 200)"
    )


def _lines(text: str, where: str) -> list[Any]:
    stripped = text.strip()
    try:
        return [json.loads(stripped)]
    except ValueError:
        pass
    return [
        json.loads(json_text(line, f"{where}, line {n}"))
        for n, line in enumerate(stripped.splitlines(), 1)
        if line.strip()
    ]


def requests(ctx: Context, args: argparse.Namespace) -> list[Any]:
    """The sample requests: a file, a variable, or the cell body."""
    given = [bool(args.request_file), args.data is not None, bool(ctx.cell and ctx.cell.strip())]
    if sum(given) != 1:
        raise UsageError(
            "%endpoint profile needs exactly one of --request-file FILE, --data $variable, or a cell body.",
            hint="Example: " + VERB.example,
        )
    if args.request_file:
        path = Path(args.request_file)
        if path.suffix.lower() != ".jsonl":
            return [path]
        if not path.is_file():
            raise UsageError(f"The request file {path} does not exist.", hint="Check the path.")
        return _lines(path.read_text(encoding="utf-8"), str(path))
    if args.data is not None:
        value = ctx.value(args.data)
        if (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, (dict, str, bytes)) for v in value)
        ):
            return [payload_value(v, "--data") for v in value]
        return [payload_value(value, "--data")]
    return _lines(str(ctx.cell), "The cell body")


def _concurrency(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(
            f"--concurrency takes whole numbers separated by commas, not {text!r}.",
            hint="E.g. --concurrency 1,2,4,8.",
        ) from None


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    samples = requests(ctx, args)
    duration = ops.parse_interval(args.duration, "--duration")
    concurrency = _concurrency(args.concurrency)
    progress = None
    widget = None
    if ctx.magic and ctx.mode == "interactive":
        from ...widgets import ProfileWidget

        labels = (
            [f"{args.rps:g} req/s"]
            if args.rps is not None
            else [f"concurrency {c}" for c in concurrency or ops.DEFAULT_CONCURRENCY]
        )
        widget = ProfileWidget(f"Profiling {args.name}/{args.deployment}", labels, args.target_p95_ms)
        ctx.display(widget)
        progress = widget.update
    with ctx.client(args) as client:
        result = ops.profile(
            client,
            args.name,
            args.deployment,
            samples,
            rps=args.rps,
            concurrency=concurrency,
            duration=duration,
            direct=args.direct,
            target_rps=args.target_rps,
            target_p95_ms=args.target_p95_ms,
            progress=progress,
        )
    if widget is not None:
        widget.finish(result)
    return result


VERB = Verb(
    name="profile",
    help="load-test a deployment: latency, throughput, CPU, memory and the instance type to choose",
    examples=(
        "%endpoint profile my-endpoint blue --request-file sample-request.json --concurrency 1,2,4 --duration 10s",
        "%endpoint profile my-endpoint blue --data $requests --rps 50 --target-rps 200 --target-p95-ms 100"
        "  # a list of requests, a fixed rate, sized for 200 req/s",
        "%endpoint profile my-endpoint blue --request-file requests.jsonl --direct  # on its servers, not the router",
    ),
    arguments=_arguments,
    run=_run,
    objects=("data",),
)
