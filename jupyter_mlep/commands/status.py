"""``jupyter-mlep status``: the active target and where each setting came from."""

from __future__ import annotations

import argparse

from ..settings import resolve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options."""


def run(args: argparse.Namespace) -> int:
    """Print the resolved settings."""
    print(resolve())
    return 0
