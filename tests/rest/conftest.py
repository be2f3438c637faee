"""Fixtures for the REST client tests: fault injection on the package's workspace (``workspace``
and ``client`` come from the root conftest), and Azurite.

Every process a fixture starts runs in its own process group and is stopped when the fixture
ends (SIGTERM, then SIGKILL), even when tests failed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.arm import Admin
from support.net import Azurite, running_azurite

from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="package")
def admin(workspace: WorkspaceInfo) -> Iterator[Admin]:
    """Fault injection on the package's workspace."""
    with Admin(workspace) as control_client:
        yield control_client


@pytest.fixture
def faults(admin: Admin) -> Iterator[Admin]:
    """Fault injection, cleared after the test."""
    admin.clear()
    try:
        yield admin
    finally:
        admin.clear()


@pytest.fixture(scope="package")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's blob service on 127.0.0.1 (npm-installed into .cache/azurite when missing)."""
    with running_azurite(tmp_path_factory.mktemp("azurite")) as service:
        yield service
