"""``%job download NAME [--output-name OUTPUT] [--to DIR]``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job")
    parser.add_argument("--output-name", metavar="OUTPUT", help="only this output (default: all)")
    parser.add_argument("--to", metavar="DIR", default=".", help="where to put them (DIR/NAME/OUTPUT/)")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        return ops.download_job_outputs(client, args.name, output=args.output_name, to=args.to)


VERB = Verb(
    name="download",
    help="download a job's outputs",
    examples=("%job download train --output-name model --to outputs  # outputs/train/model/",),
    arguments=_arguments,
    run=_run,
)
