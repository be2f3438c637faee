"""``%endpoint migrate-v1 --inference-config inferenceconfig.json --deployment-config
deploymentconfig.json --endpoint NAME --out DIR``: v1 deployment configuration → v2 YAML files
(also ``jupyter-mlep migrate-v1``)."""

from __future__ import annotations

import argparse
from typing import Any

from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--inference-config", required=True, metavar="FILE", help="the v1 inferenceconfig.json"
    )
    parser.add_argument(
        "--deployment-config", required=True, metavar="FILE", help="the v1 deploymentconfig.json (aci or aks)"
    )
    parser.add_argument("--endpoint", required=True, metavar="NAME", help="the v2 endpoint's name")
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="where to write endpoint.yml and deployment.yml"
    )
    parser.add_argument(
        "--model",
        metavar="NAME:VERSION|PATH",
        help="the model the v1 service served (a registered one, or a path)",
    )
    parser.add_argument(
        "--deployment", default="blue", metavar="NAME", help="the v2 deployment's name (default blue)"
    )
    parser.add_argument(
        "--to",
        choices=["managed", "kubernetes"],
        default=None,
        help="managed (default) or kubernetes online endpoint (AKS services may go to either)",
    )
    parser.add_argument("--compute", metavar="NAME", help="with --to kubernetes: the Kubernetes compute")
    parser.add_argument(
        "--instance-type", metavar="SKU", help="instead of the size chosen from cpu and memoryInGB"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace files already in --out")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    return ops.migrate_v1(
        args.inference_config,
        args.deployment_config,
        endpoint=args.endpoint,
        out=args.out,
        model=args.model,
        deployment=args.deployment,
        to=args.to,
        compute=args.compute,
        instance_type=args.instance_type,
        overwrite=args.overwrite,
    )


VERB = Verb(
    name="migrate-v1",
    help="convert a v1 inferenceconfig.json + deploymentconfig.json into v2 endpoint.yml and deployment.yml, "
    "listing every setting it could not carry over and why",
    examples=(
        "%endpoint migrate-v1 --inference-config inferenceconfig.json --deployment-config deploymentconfig.json "
        "--model sklearn-model:1 --endpoint my-endpoint --out v2",
        "%endpoint migrate-v1 --inference-config ic.json --deployment-config aks.json --endpoint my-endpoint "
        "--out v2 --to kubernetes --compute my-aks  # keep the AKS cluster",
    ),
    arguments=_arguments,
    run=_run,
)
