"""``jupyter-mlep endpoint VERB …``: the ``%endpoint`` verbs for terminals and CI (same arguments).

Results go to stdout as a table (default) or JSON (``--output json``); progress goes to stderr.
Keys are printed masked, like in notebooks.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..magics.endpoint import Context, add_verbs, execute
from ..settings import resolve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--output`` and the verbs of ``%endpoint``."""
    parser.add_argument("--output", "-o", choices=["table", "json"], default="table", help="result format")
    add_verbs(parser, command="jupyter-mlep endpoint")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _settings(**changes: Any) -> Any:
    return resolve(changes or None)


def render(result: Any, output: str) -> str:
    """The text printed for a verb's result."""
    from ..operations import InvokeResult

    if result is None:
        return ""
    if isinstance(result, InvokeResult):
        if output == "json":
            return json.dumps(result.to_dict(), indent=2)
        body = result.body
        return body if isinstance(body, str) else json.dumps(body)
    if output == "json":
        return json.dumps(result.to_dict(), indent=2, default=str)
    return repr(result)


def run(args: argparse.Namespace) -> int:
    """Run the verb and print its result."""
    ctx = Context(settings=_settings, say=_say, magic=False, cell=None)
    text = render(execute(ctx, args), args.output)
    if text:
        print(text)
    return 0
