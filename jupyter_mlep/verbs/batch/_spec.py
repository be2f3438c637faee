"""The batch deployment a verb means: ``-f deployment.yml`` (with ``--set``), or flags like
``%endpoint deploy``'s (``--model``, ``--code``, ``--scoring-script``, ``--env``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import parse_env_vars, positive_int
from ..._errors import UsageError
from .._environment import add_environment_arguments, environment_from_flags

__all__ = ["add_deployment_arguments", "deployment_from_args"]

EXAMPLE = "%batch deploy my-batch green --model ./model --code ./batch-src --scoring-script score.py --env conda.yml"


def add_deployment_arguments(parser: argparse.ArgumentParser) -> None:
    """``-f FILE [--set K=V]`` or the flags of a deployment, and the settings both accept."""
    parser.add_argument("-f", "--file", help="an Azure ML CLI v2 batch deployment YAML file")
    parser.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a YAML field (repeatable)"
    )
    parser.add_argument(
        "--model", help="a model file or folder, or azureml:NAME:VERSION (MLflow: no code needed)"
    )
    parser.add_argument("--code", metavar="DIR", help="the folder holding the scoring script")
    parser.add_argument(
        "--scoring-script", metavar="FILE", help="the script in --code (init() and run(mini_batch))"
    )
    add_environment_arguments(parser, build=False)
    parser.add_argument("--instance-count", type=positive_int, metavar="N", help="instances (default 1)")
    parser.add_argument(
        "--max-concurrency-per-instance",
        type=positive_int,
        metavar="N",
        help="workers per instance (default 1)",
    )
    parser.add_argument("--mini-batch-size", type=int, metavar="N", help="files per run() call (default 10)")
    parser.add_argument("--env-var", action="append", metavar="NAME=VALUE", help="environment variable")


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {
        "resources.instance_count": args.instance_count,
        "max_concurrency_per_instance": args.max_concurrency_per_instance,
        "mini_batch_size": args.mini_batch_size,
        "environment_variables": parse_env_vars(args.env_var) if args.env_var else None,
    }
    return {key: value for key, value in values.items() if value is not None}


def deployment_from_args(
    args: argparse.Namespace, *, endpoint: str | None, name: str | None, verb: str
) -> Any:
    """The :class:`~jupyter_mlep.specs.BatchDeployment` of the file or the flags."""
    from ...specs import load_batch_deployment, parse_overrides, spec_from_dict

    if args.file:
        overrides = {**parse_overrides(args.set or []), **_settings(args)}
        if name:
            overrides["name"] = name
        return load_batch_deployment(args.file, endpoint_name=endpoint, overrides=overrides)
    if not (endpoint and name and args.model):
        raise UsageError(
            f"%batch {verb} needs ENDPOINT, DEPLOYMENT and --model (or -f deployment.yml).",
            hint="Example: " + EXAMPLE,
        )
    data: dict[str, Any] = {"name": name, "endpoint_name": endpoint}
    data["model"] = args.model if args.model.startswith("azureml:") else {"path": args.model}
    if args.code or args.scoring_script:
        data["code_configuration"] = {
            "code": args.code or ".",
            "scoring_script": args.scoring_script or "score.py",
        }
    data["environment"] = environment_from_flags(args)
    if (data["environment"] is None) != ("code_configuration" not in data):
        raise UsageError(
            f"%batch {verb} needs both --code and --env (a scoring script and where it runs), or neither for an "
            "MLflow model.",
            hint="Example: " + EXAMPLE,
        )
    settings = _settings(args)
    if "resources.instance_count" in settings:
        data["resources"] = {"instance_count": settings.pop("resources.instance_count")}
    return spec_from_dict({**data, **settings}, kind="batchDeployment")
