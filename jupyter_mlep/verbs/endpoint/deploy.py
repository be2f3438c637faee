"""``%endpoint deploy NAME DEPLOYMENT --model … --code … --scoring-script … --env …`` or
``%endpoint deploy -f deployment.yml [--endpoint NAME]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..._arguments import parse_env_vars, positive_int
from ..._errors import UsageError
from .._context import Context
from .._environment import add_environment_arguments, environment_from_flags
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("endpoint_name", nargs="?", metavar="NAME", help="the endpoint")
    parser.add_argument("deployment", nargs="?", metavar="DEPLOYMENT", help="the deployment")
    parser.add_argument("-f", "--file", help="an Azure ML CLI v2 deployment YAML file")
    parser.add_argument("--endpoint", help="the endpoint of the YAML file's deployment (its --endpoint-name)")
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a YAML field (repeatable)"
    )
    parser.add_argument(
        "--model",
        help="a model file or folder, azureml:NAME:VERSION, or azureml://jobs/JOB/outputs/OUTPUT; an MLflow "
        "model deploys without --code and --env",
    )
    parser.add_argument("--code", metavar="DIR", help="the folder holding the scoring script")
    parser.add_argument("--scoring-script", metavar="FILE", default=None, help="the script in --code")
    add_environment_arguments(parser)
    parser.add_argument(
        "--instance-type",
        default=None,
        metavar="SKU",
        help="the VM size of each instance (default Standard_DS3_v2; locally, a label)",
    )
    parser.add_argument(
        "--instance-count",
        type=positive_int,
        default=None,
        metavar="N",
        help="how many instances serve the deployment (default 1)",
    )
    parser.add_argument("--env-var", action="append", metavar="NAME=VALUE", help="environment variable")
    traffic = parser.add_mutually_exclusive_group()
    traffic.add_argument("--traffic", type=int, metavar="PERCENT", help="then give it this share of traffic")
    traffic.add_argument("--all-traffic", action="store_true", help="same as --traffic 100")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="return once the service accepted it (a live status widget follows it; static mode waits)",
    )
    parser.add_argument("--skip-script-check", action="store_true", help="do not check the scoring script")
    parser.add_argument(
        "--relax-pins",
        action="store_true",
        help="MLflow model without --env: install compatible versions of the pins this machine cannot honour "
        "(the deployment lists the pins it changed)",
    )
    parser.add_argument(
        "--debug",
        nargs="?",
        type=positive_int,
        const=None,
        default=False,
        metavar="PORT",
        help="local workspace only: the server listens for a debugpy client on 127.0.0.1:PORT "
        "(default 5678), with one worker and no scoring timeout; prints how to attach",
    )
    parser.add_argument(
        "--debug-wait",
        action="store_true",
        help="with --debug: the server waits for the debugger before init() runs",
    )


def spec_from_flags(ctx: Context, args: argparse.Namespace) -> Any:
    """The deployment spec the flags describe."""
    from ...specs import spec_from_dict

    if not args.endpoint_name or not args.deployment:
        raise UsageError("%endpoint deploy needs NAME and DEPLOYMENT (or -f deployment.yml).", hint=_EXAMPLE)
    model = args.model
    if not model:
        raise UsageError(
            "%endpoint deploy needs --model PATH or --model azureml:NAME:VERSION.", hint=_EXAMPLE
        )
    data: dict[str, Any] = {
        "name": args.deployment,
        "endpoint_name": args.endpoint_name,
        "model": _model_field(model),
        "instance_type": args.instance_type or "Standard_DS3_v2",
        "instance_count": args.instance_count or 1,
    }
    code = args.code
    if code or args.scoring_script:
        data["code_configuration"] = {
            "code": code or ".",
            "scoring_script": args.scoring_script or "score.py",
        }
    data["environment"] = environment_from_flags(args)
    if data["environment"] is None and "code_configuration" in data:
        raise UsageError(
            "%endpoint deploy --code needs --env CONDA_YML, --image IMAGE or --build DIR.",
            hint=_EXAMPLE + " (only an MLflow model deploys without --code and --env)",
        )
    if args.env_var:
        data["environment_variables"] = parse_env_vars(args.env_var)
    return spec_from_dict(data, kind="managedOnlineDeployment")


def _model_field(model: str) -> Any:
    """``--model``: a reference, a job output (registered as an MLflow model when it is one), or a path."""
    from ...specs._mlflow import find_mlflow_root

    if model.startswith("azureml://jobs/"):
        return {"path": model, "type": "mlflow_model"}
    if model.startswith("azureml:"):
        return model
    return {"path": model, **({"type": "mlflow_model"} if find_mlflow_root(Path(model)) else {})}


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from ...specs import load_deployment, parse_overrides

    path = args.file
    if path:
        overrides = parse_overrides(args.set or [])
        for key, value in (("instance_type", args.instance_type), ("instance_count", args.instance_count)):
            if value is not None:
                overrides[key] = value
        if args.deployment:
            overrides["name"] = args.deployment
        if args.env_var:
            overrides["environment_variables"] = parse_env_vars(args.env_var)
        spec = load_deployment(path, endpoint_name=args.endpoint or args.endpoint_name, overrides=overrides)
    else:
        spec = spec_from_flags(ctx, args)
    if args.relax_pins:
        from ...specs._mlflow import NO_CODE_PROPERTY_RELAX

        spec = spec.with_properties({NO_CODE_PROPERTY_RELAX: "true"})
    if args.debug is not False or args.debug_wait:
        spec = ops.with_debugger(spec, args.debug, wait=args.debug_wait)
    traffic = 100 if args.all_traffic else args.traffic
    if ctx.magic:  # a status widget, or one display updated in place (static mode waits)
        from ...widgets import deploy_with_status

        return deploy_with_status(
            ctx.mode,
            lambda: ctx.client(args),
            spec,
            traffic=traffic,
            wait=not args.no_wait,
            check_script=not args.skip_script_check,
            say=ctx.say,
            progress=ctx.progress,
        )
    with ctx.client(args) as client:
        return ops.deploy(
            client,
            spec,
            traffic=traffic,
            wait=not args.no_wait,
            check_script=not args.skip_script_check,
            progress=ctx.progress,
            on_step=ctx.say,
        )


VERB = Verb(
    name="deploy",
    help="create or update a deployment (registers the model, code and environment; creates the endpoint)",
    examples=(
        "%endpoint deploy my-endpoint blue --model ./model --code ./src --scoring-script score.py "
        "--env conda.yml --traffic 100",
        "%endpoint deploy -f green-deployment.yml --endpoint my-endpoint  # Azure ML CLI v2 YAML",
        "%endpoint deploy my-endpoint blue --model azureml:my-mlflow-model:1 --all-traffic  # MLflow: no code, no env",
        "%endpoint deploy my-endpoint blue --model ./model --code ./src --env conda.yml --debug 5678",
    ),
    arguments=_arguments,
    run=_run,
)
_EXAMPLE = "Example: " + VERB.example
