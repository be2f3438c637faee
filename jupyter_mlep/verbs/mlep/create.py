"""``%mlep create -f FILE [--set KEY=VALUE]… [--name N]``: whatever an Azure ML CLI v2 YAML file
describes (``az ml <kind> create -f FILE``), its kind read from ``$schema``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._kinds import add_endpoint_name


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--file", required=True, help="an Azure ML CLI v2 YAML file (its $schema names the kind)"
    )
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a YAML field, dotted keys (repeatable)"
    )
    parser.add_argument("--name", "-n", help="the name to create (instead of the file's)")
    add_endpoint_name(parser)
    parser.add_argument(
        "--all-traffic",
        action="store_true",
        help="an online deployment then takes all of its endpoint's traffic",
    )
    parser.add_argument("--no-wait", action="store_true", help="return once the service accepted it")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from ...specs import parse_overrides

    overrides = parse_overrides(args.set or [])
    with ctx.client(args) as client:
        return ops.create_resource(
            client,
            args.file,
            overrides=overrides,
            name=args.name,
            endpoint_name=args.endpoint_name,
            traffic=100 if args.all_traffic else None,
            wait=not args.no_wait,
            progress=ctx.progress,
            on_step=ctx.say,
        )


VERB = Verb(
    name="create",
    help="create what an Azure ML CLI v2 YAML file describes (model, environment, data, code, compute, "
    "datastore, online endpoint or deployment)",
    examples=(
        "%mlep create -f model.yml  # az ml model create -f model.yml",
        "%mlep create -f environment.yml",
        "%mlep create -f data.yml --set version=1  # --set as az ml: dotted keys",
        "%mlep create -f cluster.yml --set max_instances=2  # a compute cluster",
        "%mlep create -f blue-deployment.yml --endpoint-name my-endpoint --all-traffic",
    ),
    arguments=_arguments,
    run=_run,
)
