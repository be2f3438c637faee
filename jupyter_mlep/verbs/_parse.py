"""The parser of a verb group, shared by the magic (``%endpoint …``) and the command line
(``jupyter-mlep endpoint …``).

- Common options (``--local``; ``--output`` on the command line) are accepted before or after the verb.
- A misspelled option shows the verb's own usage and "did you mean --traffic?".
- Unquoted JSON on the line (split into several words) says to quote it.
- A bare ``%endpoint`` (no verb) lists the verbs.
"""

from __future__ import annotations

import argparse
import difflib
import shlex
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from .._arguments import ArgumentParser, HelpShown
from .._errors import UsageError
from ._docs import cli_text, examples_text, overview
from ._registry import Group, Verb

__all__ = [
    "VerbParser",
    "add_top_level_verbs",
    "add_verbs",
    "check_objects",
    "group_parser",
    "no_verb",
    "split_line",
    "verb_parsers",
]

OUTPUTS = ("table", "json")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, width=100, max_help_position=32)


class VerbParser(ArgumentParser):
    """The parser of one verb: words it does not know are its own usage error, not the group's."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.unrecognized(extras, list(args or ()))
        return parsed, extras

    def unrecognized(self, extras: list[str], words: list[str]) -> NoReturn:
        """A usage error naming the unknown words, with the likely fix and this verb's usage."""
        usage = self.format_usage().strip()
        message = f"{self.prog}: unrecognized arguments: {' '.join(extras)}"
        if any(word.lstrip().startswith(("{", "[")) for word in [*extras, *words]):
            raise UsageError(
                message + " (JSON on the line was split into several words).",
                hint="Quote the whole JSON in single quotes, e.g. --data '{\"data\": [[1, 2]]}', "
                "or pass a variable (--data $payload).\n" + usage,
            )
        known = [option for action in self._actions for option in action.option_strings]
        for word in extras:
            if word.startswith("-"):
                close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.6)
                if close:
                    raise UsageError(f"{message}. Did you mean {close[0]}?", hint=usage)
        raise UsageError(message + ".", hint=usage)


def _add_common(parser: argparse.ArgumentParser, *, cli: bool, after_verb: bool) -> None:
    """``--local`` (and ``--output`` on the command line). After the verb the defaults are
    suppressed, so that a value given before the verb is not overwritten."""
    default: Any = argparse.SUPPRESS if after_verb else False
    parser.add_argument(
        "--local",
        action="store_true",
        default=default,
        help="use the local workspace whatever the current target",
    )
    if cli:
        parser.add_argument(
            "--output",
            "-o",
            choices=OUTPUTS,
            default=argparse.SUPPRESS if after_verb else "table",
            help="result format (default table)",
        )


def add_verbs(parser: argparse.ArgumentParser, group: Group, *, cli: bool) -> None:
    """The common options and every verb of ``group`` as sub-commands of ``parser``."""
    _add_common(parser, cli=cli, after_verb=False)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=VerbParser)
    for verb in group.all():
        _add_common(_add_verb(verbs, group, verb, cli=cli), cli=cli, after_verb=True)


def add_top_level_verbs(commands: Any, group: Group) -> None:
    """The verbs of a top-level group (``create``, ``show``…), or the promoted verbs of another group
    (``migrate-v1``), as commands of ``jupyter-mlep`` itself:
    ``commands`` is the command line's sub-parsers action; each verb takes ``--local`` and ``--output``."""
    for name in group.commands:
        _add_common(_add_verb(commands, group, group.verb(name), cli=True), cli=True, after_verb=False)


def _add_verb(subparsers: Any, group: Group, verb: Verb, *, cli: bool) -> argparse.ArgumentParser:
    """The sub-command of ``verb`` (its help, description, examples and arguments) in ``subparsers``."""
    sub: argparse.ArgumentParser = subparsers.add_parser(
        verb.name,
        help=verb.help,
        description=f"{verb.help[0].upper()}{verb.help[1:]}.",
        epilog=examples_text(group, verb, cli=cli),
        formatter_class=_formatter,
    )
    verb.arguments(sub)
    return sub


def group_parser(group: Group, *, cli: bool = False) -> ArgumentParser:
    """The whole parser of ``%endpoint`` (or of ``jupyter-mlep endpoint`` with ``cli=True``)."""
    parser = ArgumentParser(
        prog=group.command if cli else group.magic,
        description=cli_text(group.description) if cli else group.description,
        epilog=overview(group, cli=cli, verbs=False),
        formatter_class=_formatter,
    )
    add_verbs(parser, group, cli=cli)
    return parser


def verb_parsers(group: Group, *, cli: bool = False) -> dict[str, argparse.ArgumentParser]:
    """The parser of each verb of ``group``, by name."""
    parser = group_parser(group, cli=cli)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment``: a ``#`` that starts a word outside quotes, as in a
    shell (``a#b`` and ``"# x"`` are kept)."""
    quote = ""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def split_line(line: str, prog: str) -> list[str]:
    """The words of a magic's line, split like a shell does (a trailing ``# comment`` is dropped)."""
    try:
        return shlex.split(strip_comment(line))
    except ValueError as exc:
        raise UsageError(f"{prog}: cannot split the line: {exc}.", hint="Close the quotes.") from None


def check_objects(verb: Verb, args: argparse.Namespace, objects: Mapping[str, Any]) -> None:
    """A usage error when an object reference (``$payload`` holding a dict) went to an option
    that takes text."""
    if not objects:
        return
    for dest, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and item in objects and dest not in verb.objects:
                kind = type(objects[item]).__name__
                raise UsageError(
                    f"{item} holds a {kind}, but {dest.replace('_', '-')} takes text.",
                    hint="Use a variable holding text or a number here.",
                )


def no_verb(group: Group, *, cli: bool) -> NoReturn:
    """Print the verbs (a bare ``%endpoint``) and return quietly."""
    print(overview(group, cli=cli))
    raise HelpShown()
