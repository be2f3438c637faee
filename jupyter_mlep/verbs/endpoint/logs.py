"""``%endpoint logs NAME DEPLOYMENT [--lines N] [--container storage-initializer] [--request-id ID]
[--follow [--follow-for D]]``.

``--follow`` in a live front end opens the logs widget (the kernel stays free). Where no widget
can be shown (papermill, nbconvert, terminal IPython) the cell must end: it prints the tail and
returns, or follows for ``--follow-for`` (``30s``, ``2m``) and then returns. From a terminal,
``jupyter-mlep endpoint logs … --follow`` follows until Ctrl-C, or for ``--follow-for``.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import positive_int
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("deployment", metavar="DEPLOYMENT", help="the deployment")
    parser.add_argument(
        "--lines", type=positive_int, default=100, metavar="N", help="how many lines (default 100)"
    )
    parser.add_argument(
        "--container",
        choices=["inference-server", "storage-initializer"],
        default="inference-server",
        help="which container's log (default inference-server)",
    )
    parser.add_argument(
        "--request-id",
        metavar="ID",
        help="only the log entries of this request (its x-request-id; a failed request's traceback included)",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="live logs widget; without one: print the tail (a notebook) or new lines until Ctrl-C "
        "(a terminal), or for --follow-for",
    )
    parser.add_argument(
        "--follow-for",
        metavar="DURATION",
        default=None,
        help="without a live widget: print new lines for this long (30s, 2m), then return",
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    follow_for = None if args.follow_for is None else ops.parse_interval(args.follow_for, "--follow-for")
    follow = args.follow or follow_for is not None
    if follow and args.request_id:
        from ..._errors import UsageError

        raise UsageError(
            "--request-id shows the entries of one request already logged; it cannot be followed.",
            hint=f"%endpoint logs {args.name} {args.deployment} --request-id {args.request_id}",
        )
    with ctx.client(args) as client:
        ops.get_deployment(client, args.name, args.deployment)  # "did you mean" for wrong names
        if not follow:
            content = ops.get_logs(
                client,
                args.name,
                args.deployment,
                lines=args.lines,
                container=args.container,
                request_id=args.request_id,
            )
            return ops.LogsResult(args.name, args.deployment, args.container, content)
    from ...widgets import follow_logs

    # interactive: the live logs widget (the kernel stays free); a notebook without one: the tail,
    # or new lines for --follow-for; a terminal: new lines until Ctrl-C (or for --follow-for)
    if follow_for is None and ctx.magic:
        follow_for = 0.0
        if ctx.mode != "interactive":
            ctx.say(
                "No live widget here: the last lines, not followed (--follow-for 30s follows for a while)."
            )
    return follow_logs(
        ctx.mode if ctx.magic else "static",
        lambda: ctx.client(args),
        args.name,
        args.deployment,
        container=args.container,
        lines=args.lines,
        say=ctx.say,
        follow_for=follow_for,
    )


VERB = Verb(
    name="logs",
    help="show the last lines of a deployment's log",
    examples=(
        "%endpoint logs my-endpoint green --lines 50",
        "%endpoint logs my-endpoint green --follow --follow-for 30s",
    ),
    arguments=_arguments,
    run=_run,
)
