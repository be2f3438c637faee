"""``jupyter-mlep status``: every setting and where it came from (as ``%mlep status``)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options."""


def run(args: argparse.Namespace) -> int:
    """Print the resolved settings, the local runtime's included."""
    from ..settings import resolve
    from ..verbs import SettingsStatus

    print(SettingsStatus(resolve()).text())
    return 0
