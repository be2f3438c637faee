"""``%batch deploy -f deployment.yml [--endpoint E]`` or ``%batch deploy ENDPOINT DEPLOYMENT --model …``."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb
from ._spec import add_deployment_arguments, deployment_from_args


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("endpoint_name", nargs="?", metavar="ENDPOINT", help="the batch endpoint")
    parser.add_argument("deployment", nargs="?", metavar="DEPLOYMENT", help="the deployment")
    parser.add_argument("--endpoint", help="the endpoint of the YAML file's deployment (its --endpoint-name)")
    add_deployment_arguments(parser)
    parser.add_argument(
        "--default",
        action="store_true",
        help="make it the endpoint's default deployment (automatic for the first)",
    )
    parser.add_argument("--no-wait", action="store_true", help="return once the service accepted it")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    endpoint = args.endpoint or args.endpoint_name
    spec = deployment_from_args(args, endpoint=endpoint, name=args.deployment, verb="deploy")
    with ctx.client(args) as client:
        return ops.deploy_batch(
            client,
            spec,
            make_default=True if args.default else None,
            wait=not args.no_wait,
            progress=ctx.progress,
            on_step=ctx.say,
        )


VERB = Verb(
    name="deploy",
    help="create or update a batch deployment (registers the model, code and environment; creates the endpoint)",
    examples=(
        "%batch deploy -f batch-deployment.yml --endpoint my-batch  # Azure ML CLI v2 YAML",
        "%batch deploy my-batch green --model ./model --code ./batch-src --scoring-script score.py --env conda.yml "
        "--mini-batch-size 3",
        "%batch deploy my-batch mlflow --model ./mlflow-model  # an MLflow model: no code, no env",
    ),
    arguments=_arguments,
    run=_run,
)
