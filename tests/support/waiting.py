"""Unique names and polling."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

_COUNTER = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other call in this test session returns: ``<prefix>-<4 random hex><counter>``.

    The counter makes two names of one session differ whatever the random part draws (names only
    need to be unique within a session: every session has its own workspaces), so a clash has
    probability 0; the random part only keeps names of different sessions apart in logs.
    """
    return f"{prefix}-{uuid.uuid4().hex[:4]}{next(_COUNTER)}"


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.02, *, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it is truthy (its value is returned); fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not met within {timeout} s")
        time.sleep(interval)


def widget_threads(prefix: str = "mlep-") -> list[threading.Thread]:
    """The pollers' threads alive now."""
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]
