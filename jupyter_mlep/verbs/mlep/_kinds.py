"""What the ``%mlep`` verbs share: the KIND argument and ``--endpoint-name``."""

from __future__ import annotations

import argparse

KINDS = (
    "model",
    "environment",
    "data",
    "code",
    "compute",
    "online-endpoint",
    "online-deployment",
    "datastore",
    "job",
)
"""The az ml nouns (:data:`jupyter_mlep.operations.RESOURCE_KINDS`, written out so that parsing a
line does not import the operations)."""


def add_kind(parser: argparse.ArgumentParser) -> None:
    """The positional KIND."""
    parser.add_argument("kind", metavar="KIND", choices=KINDS, help="one of: " + ", ".join(KINDS))


def add_endpoint_name(parser: argparse.ArgumentParser) -> None:
    """``--endpoint-name`` (the endpoint of an online deployment)."""
    parser.add_argument(
        "--endpoint-name",
        "-e",
        dest="endpoint_name",
        metavar="ENDPOINT",
        help="the endpoint of an online-deployment",
    )
