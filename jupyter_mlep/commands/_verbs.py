"""``jupyter-mlep endpoint VERB …``, ``jupyter-mlep job VERB …``: a magic's verbs for terminals and
CI (same arguments, defined once in :mod:`jupyter_mlep.verbs`).

Results go to stdout as a table (default) or JSON (``--output json``, before or after the verb);
progress goes to stderr. Keys and tokens are printed masked, like in notebooks.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..settings import resolve
from ..verbs import Context, Group, Verb, add_verbs, overview

__all__ = ["add_group_arguments", "render", "run_group", "run_top_level"]


def add_group_arguments(parser: argparse.ArgumentParser, group: Group) -> None:
    """``--output``, ``--local`` and the verbs of ``group``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = overview(group, cli=True, verbs=False)
    add_verbs(parser, group, cli=True)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _settings(**changes: Any) -> Any:
    return resolve(changes or None)


def render(result: Any, output: str) -> str:
    """The text printed for a verb's result."""
    from ..operations import InvokeResult
    from ..rendering import Result

    if result is None:
        return ""
    if isinstance(result, InvokeResult) and output != "json":
        body = result.body
        return body if isinstance(body, str) else json.dumps(body)
    if output == "json":
        return json.dumps(result.to_dict(), indent=2, default=str)
    return result.text() if isinstance(result, Result) else repr(result)


def run_group(args: argparse.Namespace, group: Group) -> int:
    """Run the verb and print its result (a bare ``jupyter-mlep endpoint`` lists the verbs)."""
    if args.verb is None:
        print(overview(group, cli=True))
        return 0
    return _run(group.verb(args.verb), args)


def run_top_level(args: argparse.Namespace, group: Group) -> int:
    """Run the top-level verb ``args.command`` of ``group`` (``jupyter-mlep create -f FILE``)."""
    return _run(group.verb(args.command), args)


def _run(verb: Verb, args: argparse.Namespace) -> int:
    ctx = Context(settings=_settings, say=_say, magic=False, cell=None)
    text = render(verb.run(ctx, args), args.output)
    if text:
        print(text)
    return 0
