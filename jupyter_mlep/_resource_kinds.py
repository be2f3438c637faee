"""The kinds of resource ``%mlep show``, ``list`` and ``delete`` take: the nouns of ``az ml``.

One definition, in a module that imports nothing, so that the ``%mlep`` verbs can offer these
kinds while parsing a line without importing the operations (and pydantic or httpx with them).
"""

from __future__ import annotations

__all__ = ["RESOURCE_KINDS"]

RESOURCE_KINDS = (
    "model",
    "environment",
    "data",
    "code",
    "compute",
    "online-endpoint",
    "online-deployment",
    "datastore",
    "job",
    "batch-endpoint",
    "batch-deployment",
)
"""The kinds ``show``, ``list`` and ``delete`` take: the nouns of ``az ml``."""
