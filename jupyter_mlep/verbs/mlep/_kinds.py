"""What the ``%mlep`` verbs share: the KIND argument and ``--endpoint-name``."""

from __future__ import annotations

import argparse

from ..._resource_kinds import RESOURCE_KINDS


def add_kind(parser: argparse.ArgumentParser) -> None:
    """The positional KIND."""
    parser.add_argument(
        "kind", metavar="KIND", choices=RESOURCE_KINDS, help="one of: " + ", ".join(RESOURCE_KINDS)
    )


def add_endpoint_name(parser: argparse.ArgumentParser) -> None:
    """``--endpoint-name`` (the endpoint of an online deployment)."""
    parser.add_argument(
        "--endpoint-name",
        "-e",
        dest="endpoint_name",
        metavar="ENDPOINT",
        help="the endpoint of an online-deployment",
    )
