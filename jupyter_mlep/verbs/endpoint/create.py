"""``%endpoint create NAME [--auth-mode key|aml_token|aad_token] | -f endpoint.yml``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._errors import UsageError
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help="endpoint name (default: the YAML file's name)"
    )
    parser.add_argument(
        "--auth-mode",
        choices=["key", "aml_token", "aad_token"],
        default=None,
        help="how scoring requests authenticate (default key)",
    )
    parser.add_argument("-f", "--file", help="an Azure ML CLI v2 endpoint YAML file")
    parser.add_argument("--no-wait", action="store_true", help="return once the service accepted it")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops
    from ...specs import ManagedOnlineEndpoint, load_endpoint

    path = args.file
    if path:
        spec = load_endpoint(path, overrides={"name": args.name} if args.name else None)
        if args.auth_mode:
            spec = spec.model_copy(update={"auth_mode": args.auth_mode})
    elif args.name:
        spec = ManagedOnlineEndpoint(name=args.name, auth_mode=args.auth_mode or "key")
    else:
        raise UsageError("%endpoint create needs a NAME or -f endpoint.yml.", hint="Example: " + VERB.example)
    with ctx.client(args) as client:
        ops.create_endpoint(client, spec, wait=not args.no_wait, progress=ctx.progress)
        return ops.describe_endpoint(client, spec.name)


VERB = Verb(
    name="create",
    help="create (or update) an online endpoint",
    examples=(
        "%endpoint create my-token-endpoint --auth-mode aml_token  # scored with a token instead of a key",
        "%endpoint create -f endpoint.yml",
    ),
    arguments=_arguments,
    run=_run,
)
