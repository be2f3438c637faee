"""Fixtures of the server extension's tests: a real Jupyter server in the test's process
(pytest-jupyter's ``jp_serverapp``/``jp_fetch``) with the extension enabled and anonymous access
forbidden (``allow_unauthenticated_access=False``: a route without authentication would fail)."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_jupyter.jupyter_core import *  # noqa: F403
from pytest_jupyter.jupyter_server import *  # noqa: F403
from traitlets.config import Config


@pytest.fixture
def jp_server_config() -> Config:
    """The extension on; every request must be authenticated."""
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_mlep.server": True},
                "allow_unauthenticated_access": False,
            }
        }
    )


@pytest.fixture
def feed(jp_serverapp: Any) -> Any:
    """The extension's feed of the running server (closed at the end)."""
    made = jp_serverapp.web_app.settings["mlep_feed"]
    yield made
    made.close()
