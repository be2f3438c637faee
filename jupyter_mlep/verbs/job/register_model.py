"""``%job register-model NAME [--best] --output-name OUTPUT --model-name MODEL [--type custom_model|mlflow_model]``
(``--best``: NAME is a sweep, and its best trial's output is registered)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the job (a sweep with --best)")
    parser.add_argument(
        "--best", action="store_true", help="NAME is a sweep: register its best trial's output"
    )
    parser.add_argument("--output-name", metavar="OUTPUT", required=True, help="the job's output")
    parser.add_argument("--model-name", metavar="MODEL", required=True, help="the model to register")
    parser.add_argument("--version", help="the model's version (default: the next one)")
    parser.add_argument(
        "--type",
        dest="model_type",
        choices=("custom_model", "mlflow_model", "triton_model"),
        default=None,
        help="the model's type (default: the output's type, else custom_model)",
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        name = ops.best_trial(client, args.name) if args.best else args.name
        if args.best:
            ctx.say(f"The best trial of sweep {args.name} is {name}.")
        return ops.register_job_model(
            client,
            name,
            output=args.output_name,
            model_name=args.model_name,
            version=args.version,
            model_type=args.model_type,
        )


VERB = Verb(
    name="register-model",
    help="register a job's output as a model (azureml://jobs/NAME/outputs/OUTPUT), ready to deploy",
    examples=(
        "%job register-model train --output-name model --model-name diabetes  # then --model azureml:diabetes:1",
        "%job register-model tune --best --output-name model --model-name diabetes  # a sweep's best trial",
    ),
    arguments=_arguments,
    run=_run,
)
