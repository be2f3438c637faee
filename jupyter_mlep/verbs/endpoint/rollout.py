"""``%endpoint rollout NAME DEPLOYMENT --steps 10,50,100 [--mirror-first P] [--interval 30s]
[--gate "error_rate<1%" …] [--sample-request F]``: shift traffic step by step behind gates.

In a live front end the steps are drawn as a widget that updates as they run; elsewhere
(papermill, nbconvert, terminal IPython, the command line) one line is printed per event.
Either way the cell blocks until the rollout ends and fails with :class:`~jupyter_mlep.RolloutError`
when a gate is not met (the original split is restored first).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..._arguments import positive_int
from .._context import Context
from .._payload import payload_value
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("deployment", metavar="DEPLOYMENT", help="the deployment that takes the traffic")
    parser.add_argument(
        "--steps",
        default="10,50,100",
        metavar="P,P,…",
        help="the deployment's live percentage at each step, increasing (default 10,50,100)",
    )
    parser.add_argument(
        "--mirror-first",
        type=int,
        metavar="P",
        help="first mirror P%% (1-50) of the requests to it for one interval, and check the gates on those",
    )
    parser.add_argument(
        "--interval",
        default="30s",
        metavar="DURATION",
        help="how long each step lasts: 30s, 2m, 500ms (default 30s)",
    )
    parser.add_argument(
        "--gate",
        action="append",
        metavar="METRIC<VALUE",
        help="a condition each step must meet (repeatable): error_rate<1%%, p95_ms<200, requests>=20 "
        "(metrics error_rate, p50_ms, p90_ms, p95_ms, p99_ms, requests; operators < <= > >=)",
    )
    parser.add_argument(
        "--sample-request",
        metavar="FILE",
        help="a request (JSON file, $variable or literal JSON) sent to the deployment when a step saw no "
        "traffic for it",
    )
    parser.add_argument(
        "--sample-count",
        type=positive_int,
        default=20,
        metavar="N",
        help="how many sample requests per step (default 20)",
    )
    parser.add_argument(
        "--metrics-delay",
        metavar="DURATION",
        help="how long after a step its metrics are published, waited before the gates read them "
        "(default: the target's: none locally, 3m on Azure, whose Azure Monitor publishes minutes late)",
    )


def sample_payload(ctx: Context, value: str | None) -> Any:
    """The sample request: a ``$variable``, literal JSON, or a file."""
    if value is None:
        return None
    if value in ctx.objects or value.lstrip().startswith(("{", "[")):
        return payload_value(ctx.value(value), "--sample-request")
    return Path(value)


def _delay(value: str | None) -> float | None:
    """``--metrics-delay``: seconds (0 waits for nothing); None: the target's own delay."""
    from ...operations import parse_interval

    if value is None:
        return None
    return (
        0.0
        if value.strip().rstrip("smh").strip() in ("0", "0.0")
        else parse_interval(value, "--metrics-delay")
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    options: dict[str, Any] = {
        "steps": args.steps,
        "interval": args.interval,
        "gates": args.gate or [],
        "mirror_first": args.mirror_first,
        "sample_request": sample_payload(ctx, args.sample_request),
        "sample_count": args.sample_count,
        "metrics_delay": _delay(args.metrics_delay),
    }
    with ctx.client(args) as client:
        if ctx.mode == "interactive" and ctx.magic:
            from ...widgets.rollout import RolloutWidget

            widget = RolloutWidget(args.name, args.deployment)
            ctx.display(widget)
            return widget.run(client, **options)
        return ops.rollout(
            client, args.name, args.deployment, on_step=lambda event: ctx.say(str(event)), **options
        )


VERB = Verb(
    name="rollout",
    help="shift live traffic to a deployment step by step, checking gates; restore the split on failure",
    examples=(
        '%endpoint rollout my-endpoint green --steps 10,50,100 --interval 30s --gate "error_rate<1%" '
        '--gate "p95_ms<200" --sample-request sample-request.json',
    ),
    arguments=_arguments,
    run=_run,
    objects=("sample_request",),
)
