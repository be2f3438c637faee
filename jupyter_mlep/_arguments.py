"""Argument parsing shared by the magics and the command line.

The parser raises :class:`~jupyter_mlep.UsageError` instead of exiting, so a magic with a
wrong argument fails its cell with a readable message, and the CLI prints it and exits 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from ._errors import UsageError

__all__ = ["ArgumentParser", "HelpShown", "parse_env_vars"]


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
