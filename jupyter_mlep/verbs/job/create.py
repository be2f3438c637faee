"""``%job create -f job.yml [--set key=value]… [--name N] [--no-wait]`` (as ``az ml job create``)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._follow import add_wait_argument, finish


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", required=True, help="an Azure ML CLI v2 command job YAML file")
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a YAML field (repeatable)"
    )
    parser.add_argument("--name", help="the job's name (default: the file's, else a new one)")
    add_wait_argument(parser)


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from ...specs import load_job, parse_overrides

    spec = load_job(args.file, overrides=parse_overrides(args.set or []))
    with ctx.client(args) as client:
        job = ops.create_job(client, spec, name=args.name, on_step=ctx.say)
        return finish(ctx, args, client, job)


VERB = Verb(
    name="create",
    help="create a job from an Azure ML CLI v2 YAML file",
    examples=("%job create -f job.yml --set inputs.alpha=0.1  # az ml job create -f job.yml",),
    arguments=_arguments,
    run=_run,
)
