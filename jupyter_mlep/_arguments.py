"""Argument parsing shared by the magics and the command line.

The parser raises :class:`~jupyter_mlep.UsageError` instead of exiting, so a magic with a
wrong argument fails its cell with a readable message, and the CLI prints it and exits 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from ._errors import UsageError

__all__ = ["ArgumentParser", "HelpShown", "add_score_script_arguments", "parse_env_vars", "positive_int"]


class HelpShown(Exception):
    """Raised after ``--help`` printed the usage; callers return quietly."""


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=self.format_usage().strip())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip(), hint=self.format_usage().strip())
        raise HelpShown()


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (``--lines -5`` is refused before any request)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def parse_env_vars(pairs: Sequence[str] | None, option: str = "--env-var") -> dict[str, str]:
    """Turn ``["K=V", …]`` into a dict, with a usage error naming a malformed pair."""
    result: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"{option} {pair!r} is not of the form NAME=VALUE.", hint=f"Example: {option} LOG_LEVEL=debug"
            )
        result[name.strip()] = value
    return result


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def add_score_script_arguments(parser: argparse.ArgumentParser, *, magic: bool) -> None:
    """The options of ``%%score_script`` (``magic=True``) and ``jupyter-mlep check-score``, defined once."""
    if magic:
        parser.add_argument(
            "path", nargs="?", default="score.py", help="file to write the cell to (default score.py)"
        )
    else:
        parser.add_argument("path", help="the scoring script to check")
    parser.add_argument("--model-dir", metavar="DIR", help="the folder AZUREML_MODEL_DIR points to")
    sources = "a JSON file, a $variable or literal JSON" if magic else "a JSON file or literal JSON"
    parser.add_argument(
        "--test",
        metavar="REQUEST",
        help=f"run init() then run(REQUEST) in a fresh process; REQUEST is {sources}",
    )
    if magic:
        parser.add_argument(
            "--no-check", action="store_true", help="only write the file (and test it with --test)"
        )
        parser.add_argument(
            "--in-kernel",
            action="store_true",
            help="run the --test in this kernel instead of a fresh process: JupyterLab's debugger and "
            "%%debug reach the script (no isolation: its globals and crashes are the kernel's)",
        )
    parser.add_argument(
        "--env-var",
        action="append",
        metavar="NAME=VALUE",
        help="environment variable for the test (repeatable), as in the deployment's environment_variables",
    )
    parser.add_argument(
        "--python", metavar="PATH", help="Python interpreter for the test (default: this one)"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="stop the test after this many seconds (default 300)",
    )
