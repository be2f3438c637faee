"""What the registry says about its verbs: the magic's docstring (``%endpoint?``), the verb list of
``--help`` and of a bare ``%endpoint``, each verb's examples, and the README's cheat-sheet.

Examples and hints are written in magic syntax; :func:`cli_text` turns them into command-line
syntax (``%endpoint logs`` → ``jupyter-mlep endpoint logs``), the one translation the command line
applies to its help and to the hints of the errors it prints.
"""

from __future__ import annotations

import argparse
import re

from ._registry import GROUPS, TOP_LEVEL, Group, Verb

__all__ = ["cheat_sheet", "cli_text", "docstring", "examples_text", "overview"]

_COMMENT_COLUMN = 72


def cli_text(text: str) -> str:
    """``text`` with magic syntax turned into command-line syntax."""
    for name, group in GROUPS.items():
        if group.cell_verb:
            text = re.sub(rf"%%{name}\b", f"jupyter-mlep {name} {group.cell_verb}", text)
        text = re.sub(rf"(?:\w+ = )?%{name}\b", f"jupyter-mlep {name}", text)
    for top in TOP_LEVEL.values():
        verbs = "|".join(top.verbs)
        text = re.sub(rf"(?:\w+ = )?%{top.name} ({verbs})\b", r"jupyter-mlep \1", text)
    return text.replace("%mlep status", "jupyter-mlep status")


def _split_comment(example: str) -> tuple[str, str]:
    code, _, comment = example.partition("  # ")
    return code.rstrip(), comment.strip()


def _example(example: str, *, cli: bool) -> str:
    code, comment = _split_comment(example)
    if cli:
        code = cli_text(code)
    return f"{code}   ({comment})" if comment else code


def examples_text(group: Group, verb: Verb, *, cli: bool) -> str:
    """A verb's examples, one a line (the epilog of its ``-h``)."""
    lines = [f"  {_example(example, cli=cli)}" for example in verb.examples]
    return "Example" + ("s" if len(lines) > 1 else "") + ":\n" + "\n".join(lines)


def overview(group: Group, *, cli: bool, verbs: bool = True) -> str:
    """Every verb with its help and first example (a bare ``%endpoint``), or (``verbs=False``) only
    the examples (the epilog of ``--help``, whose verb list argparse draws)."""
    width = max(len(name) for name in group.verbs)
    lines = ["Verbs:" if verbs else "Examples:"]
    for verb in group.all():
        if verbs:
            lines.append(f"  {verb.name:<{width}}  {verb.help}")
            lines.append(f"  {'':<{width}}    e.g. {_example(verb.examples[0], cli=cli)}")
        else:
            lines.append(f"  {_example(verb.examples[0], cli=cli)}")
    footer = cli_text(group.footer) if cli else group.footer
    prog = group.command if cli else group.magic
    lines += ["", footer, f"{prog} VERB -h shows the options of one verb."]
    return "\n".join(lines)


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = " ".join(parser.format_usage().split())
    return usage.removeprefix("usage: ").replace(" [-h]", "").replace(" [--local]", "")


def docstring(group: Group) -> str:
    """The magic's docstring: what ``%endpoint?`` shows."""
    from ._parse import verb_parsers

    parsers = verb_parsers(group)
    lines = [group.description, ""]
    for verb in group.all():
        lines.append(_usage(parsers[verb.name]))
        lines.append(f"    {verb.help}")
        lines += [f"    e.g. {_example(example, cli=False)}" for example in verb.examples]
    lines += ["", group.footer]
    return "\n".join(lines)


def cheat_sheet(group: Group) -> str:
    """The README's code block for ``group``: the tour's examples, in an order that runs as written."""
    lines = []
    for name, index in group.tour:
        code, comment = _split_comment(group.verb(name).examples[index])
        lines.append(f"{code:<{_COMMENT_COLUMN}} # {comment}" if comment else code)
    return "```python\n" + "\n".join(lines) + "\n```"
