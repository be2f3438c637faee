"""Unique names and polling."""

from __future__ import annotations

import itertools
import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

_COUNTER = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other call in this test session returns: ``<prefix>-<counter><4 random letters>``.

    The counter makes two names of one session differ whatever the random part draws (names only
    need to be unique within a session: every session has its own workspaces), so a clash has
    probability 0; the random part only keeps names of different sessions apart in logs. Ending in
    a letter, the name is valid for every kind (a compute name must not end in ``-<digits>``).
    """
    return f"{prefix}-{next(_COUNTER)}{''.join(random.choices(string.ascii_lowercase, k=4))}"


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
