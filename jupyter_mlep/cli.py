"""The ``jupyter-mlep`` command (also ``jupyter mlep``): the magics' verbs for terminals and CI.

Each sub-command only gathers arguments and calls the library. Expected mistakes print one
readable message and exit with status 2 (usage) or 1 (anything else), never a traceback; the
hints in it name the command line's syntax (``jupyter-mlep endpoint logs …``), not the magics'.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from ._arguments import ArgumentParser, HelpShown
from ._errors import MlepError, UsageError
from ._version import __version__
from .commands._verbs import add_group_arguments, run_group, run_top_level
from .verbs import GROUPS, TOP_LEVEL, add_top_level_verbs, cli_text

__all__ = ["main"]

# sub-command name -> module under jupyter_mlep.commands with add_arguments(parser) and run(args) -> int;
# each verb group (``endpoint``, ``job``) is a sub-command too, run by jupyter_mlep.commands._verbs
_COMMANDS = {
    "check-score": "check a scoring script (and optionally smoke-test it)",
    "demo": "run the quickstart recipe against the local workspace and print what it did",
    "recipe": "run a notebook recipe with papermill and summarise it (exits 1 naming the failed step)",
    "status": "show the active target and where each setting came from",
    "workspace": "start, stop or describe the local workspace server",
}


def _parser() -> ArgumentParser:
    description = __doc__.splitlines()[0].replace("``", "") if __doc__ else None
    parser = ArgumentParser(prog="jupyter-mlep", description=description)
    parser.add_argument("--version", action="version", version=f"jupyter-mlep {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=ArgumentParser
    )
    for name, help_text in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _command_module(name).add_arguments(sub)
    for name, verbs in GROUPS.items():
        help_text = f"{verbs.description.split(':', 1)[0].lower()}: " + ", ".join(verbs.verbs)
        add_group_arguments(commands.add_parser(name, help=help_text, description=help_text), verbs)
    for verbs in (*TOP_LEVEL.values(), *GROUPS.values()):
        add_top_level_verbs(commands, verbs)  # create -f FILE, show, list, delete; migrate-v1
    return parser


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"jupyter_mlep.commands.{name.replace('-', '_')}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command in GROUPS:
            return run_group(args, GROUPS[args.command])
        for verbs in (*TOP_LEVEL.values(), *GROUPS.values()):
            if args.command in verbs.commands:
                return run_top_level(args, verbs)
        return int(_command_module(args.command).run(args))
    except HelpShown:
        return 0
    except UsageError as exc:
        print(cli_text(f"error: {exc}"), file=sys.stderr)
        return 2
    except MlepError as exc:  # hints are written for notebooks: say them in command-line syntax
        print(cli_text(f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
