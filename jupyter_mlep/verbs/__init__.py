"""Verbs: every sub-command of ``%endpoint``, ``%job`` and ``%batch``, defined once and shared by
the magics and the command line.

One module per verb declares ``VERB = Verb(name, help, examples, arguments, run)``; a
:class:`Group` lists the verbs of one magic (:data:`GROUPS`). From that registry come the magic's
router (:func:`run_line`), its docstring, ``jupyter-mlep endpoint --help`` (:func:`add_verbs`) and
the README's cheat-sheet (:func:`cheat_sheet`). Nothing here imports IPython or ipywidgets: the
magics pass in what they own (the notebook's variables, the display mode, ``display``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._arguments import HelpShown
from ._context import Context, parse_split
from ._docs import cheat_sheet, cli_text, docstring, overview
from ._expand import expand_words, is_json_text
from ._parse import add_top_level_verbs, add_verbs, check_objects, group_parser, no_verb, split_line
from ._registry import GROUPS, MLEP, TOP_LEVEL, Group, Verb, group
from ._status import SettingsStatus

if TYPE_CHECKING:
    from ..settings import Settings
    from ..widgets import DisplayMode

__all__ = [
    "GROUPS",
    "MLEP",
    "TOP_LEVEL",
    "Context",
    "Group",
    "SettingsStatus",
    "Verb",
    "add_top_level_verbs",
    "add_verbs",
    "cheat_sheet",
    "cli_text",
    "docstring",
    "expand_words",
    "group",
    "is_json_text",
    "overview",
    "parse_split",
    "run_line",
    "split_line",
]


def run_line(
    name: str,
    line: str,
    cell: str | None,
    *,
    settings: Callable[..., Settings],
    namespace: Mapping[str, Any],
    mode: DisplayMode = "static",
    display: Callable[[Any], None] = print,
) -> Any:
    """Run one line of the magic ``%name`` (``%%name`` with a ``cell``): expand the notebook's
    variables, parse, run the verb; returns its result (None after ``-h`` or a bare ``%name``)."""
    verbs = group(name)
    words, objects = expand_words(split_line(line, verbs.magic), namespace)
    if cell is not None and verbs.cell_verb and not (words and words[0] in ("-h", "--help")):
        words = [verbs.cell_verb, *words]  # %%job NAME … is %job run NAME … with the cell
    try:
        args = group_parser(verbs).parse_args(words)
        if args.verb is None:
            no_verb(verbs, cli=False)
    except HelpShown:
        return None
    verb = verbs.verb(args.verb)
    check_objects(verb, args, objects)
    ctx = Context(
        settings=settings,
        namespace=namespace,
        cell=cell,
        mode=mode,
        objects=objects,
        display=display,
    )
    return verb.run(ctx, args)
