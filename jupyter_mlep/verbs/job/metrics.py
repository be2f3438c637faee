"""``%job metrics NAME``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.get_job_metrics(client, args.name)


VERB = Verb(
    name="metrics",
    help="show the metrics (with charts) and parameters a job logged with MLflow",
    examples=("%job metrics train",),
    arguments=_arguments,
    run=_run,
)
