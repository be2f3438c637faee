"""``%endpoint VERB …``: the Azure ML CLI's online-endpoint verbs, one small module per verb.

Each verb module has ``HELP``, ``EXAMPLE``, ``add_arguments(parser)`` and ``run(ctx, args)``;
this router builds one parser from them (shared with ``jupyter-mlep endpoint``), picks the
verb and calls it. Verbs parse, call :mod:`jupyter_mlep.operations` and return the result.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..._arguments import ArgumentParser, HelpShown
from ..._errors import UsageError
from ._context import Context, add_local

if TYPE_CHECKING:
    from .. import MlepMagics

__all__ = ["VERBS", "Context", "add_verbs", "execute", "run", "verb_module"]

VERBS = (
    "create",
    "deploy",
    "invoke",
    "logs",
    "traffic",
    "rollout",
    "show",
    "list",
    "delete",
    "keys",
    "update",
    "scale",
)


def verb_module(verb: str) -> ModuleType:
    """The module of one verb."""
    return importlib.import_module(f"{__name__}.{verb}")


def add_verbs(parser: argparse.ArgumentParser, *, command: str = "%endpoint") -> None:
    """Add every verb as a sub-command of ``parser`` (the magic's parser, or the CLI's with
    ``command="jupyter-mlep endpoint"`` for the examples)."""
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=ArgumentParser)
    for verb in VERBS:
        module = verb_module(verb)
        example = (
            module.EXAMPLE if command == "%endpoint" else module.EXAMPLE.replace("r = %endpoint", command)
        )
        example = example.replace("%endpoint", command)
        sub = verbs.add_parser(verb, help=module.HELP, description=f"{module.HELP}. Example: {example}")
        module.add_arguments(sub)
        add_local(sub)


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="%endpoint", description="Online endpoints: the verbs of `az ml online-endpoint`."
    )
    add_verbs(parser)
    return parser


def execute(ctx: Context, args: argparse.Namespace) -> Any:
    """Run the parsed verb."""
    return verb_module(args.verb).run(ctx, args)


def _expand_name(word: str, namespace: dict[str, Any]) -> str:
    """``$name`` as the text of the notebook variable ``name`` when it holds text, a number or a
    path (names and paths in parameterised notebooks: ``%endpoint invoke $endpoint``); anything
    else is left to the verb (``--data $payload`` reads the object itself)."""
    if word.startswith("$") and word[1:].isidentifier():
        value = namespace.get(word[1:])
        if isinstance(value, (str, int, float, os.PathLike)) and not isinstance(value, bool):
            return os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    return word


def run(magics: MlepMagics, line: str, cell: str | None, local_ns: dict[str, Any]) -> Any:
    """Run ``%endpoint`` / ``%%endpoint``; returns the verb's result (displayed as the cell's value)."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%endpoint: cannot split the line: {exc}.", hint="Close the quotes.") from None
    namespace = {**(magics.shell.user_ns if magics.shell else {}), **local_ns}
    words = [_expand_name(word, namespace) for word in words]
    try:
        args = _parser().parse_args(words)
    except HelpShown:
        return None
    from ...widgets import display_mode

    ctx = Context(
        settings=magics.settings,
        mode=display_mode(magics.widgets),
        namespace=namespace,
        cell=cell,
    )
    return execute(ctx, args)
