"""``%endpoint metrics NAME [--deployment D] [--since 15m] [--interval 1m] [--metric M …] [--split DIM]``.

The endpoint's (or one deployment's) metrics over time, by Azure Monitor's names
(``RequestsPerMinute``, ``RequestLatency_P50``…, ``CpuUtilizationPercentage``…), read from
the Azure Monitor metrics API of the resource on either target: a table, and charts in HTML.
In a live front end a widget reads them again every 15 s while it is open.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--deployment", metavar="D", default=None, help="one deployment's metrics")
    parser.add_argument("--since", metavar="DURATION", default="15m", help="how far back (default 15m)")
    parser.add_argument(
        "--interval", metavar="DURATION", default="1m", help="time bucket, whole minutes (default 1m)"
    )
    parser.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        default=None,
        help="an Azure Monitor metric name (repeatable, or comma-separated); default: the main ones",
    )
    parser.add_argument(
        "--split",
        metavar="DIMENSION",
        default=None,
        help="one series per value of a dimension: statusCode, statusCodeClass, deployment, instanceId",
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    since = ops.parse_interval(args.since, "--since")
    interval = ops.parse_interval(args.interval, "--interval")
    metrics = [m.strip() for item in args.metric or () for m in item.split(",") if m.strip()] or None

    def read(client: Any) -> Any:
        return ops.get_metrics(
            client,
            args.name,
            args.deployment,
            metrics=metrics,
            since=since,
            interval=interval,
            split=args.split,
        )

    if ctx.magic and ctx.mode == "interactive":  # a live widget, read again while it is open
        from ...widgets import MetricsWidget

        return MetricsWidget(lambda: ctx.client(args), read)
    with ctx.client(args) as client:  # papermill, nbconvert, a terminal: the table and chart images
        return read(client)


VERB = Verb(
    name="metrics",
    help="show an endpoint's or deployment's metrics over time (Azure Monitor's names)",
    examples=(
        "%endpoint metrics my-endpoint --since 30m",
        "%endpoint metrics my-endpoint --deployment green --metric CpuUtilizationPercentage",
        "%endpoint metrics my-endpoint --metric RequestsPerMinute --split statusCode",
    ),
    arguments=_arguments,
    run=_run,
)
