"""``%endpoint token NAME``: a scoring token of an ``aml_token`` endpoint, shown masked (the result's
``access_token`` holds it whole; ``jupyter_mlep.get_token`` reads it from Python)."""

from __future__ import annotations

import argparse
from typing import Any

from ..._errors import UsageError
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the endpoint (auth mode aml_token)")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    with ctx.client(args) as client:
        endpoint = ops.get_endpoint(client, args.name)
        if endpoint.auth_mode == "key":
            raise UsageError(
                f"Endpoint {args.name} has no token: it is scored with a key (auth mode key).",
                hint=f"Show its keys with %endpoint keys {args.name}.",
            )
        if endpoint.auth_mode == "aad_token":
            raise UsageError(
                f"Endpoint {args.name} takes Microsoft Entra tokens (auth mode aad_token), not its own.",
                hint="jupyter_mlep.invoke and %endpoint invoke get one for you.",
            )
        return ops.get_token(client, args.name)


VERB = Verb(
    name="token",
    help="show a scoring token of an aml_token endpoint masked (read it whole with jupyter_mlep.get_token)",
    examples=("%endpoint token my-token-endpoint  # shown masked, with its expiry",),
    arguments=_arguments,
    run=_run,
)
