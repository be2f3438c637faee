"""``%endpoint keys NAME [--regenerate primary|secondary]`` (always shown masked)."""

from __future__ import annotations

import argparse
from typing import Any

from ..._errors import UsageError
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint")
    parser.add_argument("--regenerate", choices=["primary", "secondary"], help="replace this key")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        endpoint = ops.get_endpoint(client, args.name)
        if endpoint.auth_mode == "aml_token":
            raise UsageError(
                f"Endpoint {args.name} has no keys: it is scored with a token (auth mode aml_token).",
                hint=f"Show it with %endpoint token {args.name}; read it whole with "
                f"jupyter_mlep.get_token(client, {args.name!r}).",
            )
        if endpoint.auth_mode == "aad_token":
            raise UsageError(
                f"Endpoint {args.name} has no keys: it is scored with a Microsoft Entra token "
                "(auth mode aad_token).",
                hint="jupyter_mlep.invoke and %endpoint invoke get one for you.",
            )
        if args.regenerate:
            ops.regenerate_key(client, args.name, args.regenerate)
        return ops.KeysResult(args.name, ops.get_keys(client, args.name), args.regenerate)


VERB = Verb(
    name="keys",
    help="show an endpoint's keys masked, or regenerate one (read them whole with jupyter_mlep.get_keys)",
    examples=("%endpoint keys my-endpoint --regenerate primary  # shown masked: abcd…wxyz",),
    arguments=_arguments,
    run=_run,
)
