"""Fixtures for the local workspace tests: an ARM client over httpx and a plain HTTP client of the
package's running workspace (``workspace``, from the root conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support.arm import Arm

from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="module")
def arm(workspace: WorkspaceInfo) -> Iterator[Arm]:
    """An ARM client of the package's workspace."""
    with Arm(workspace) as client:
        yield client


@pytest.fixture(scope="module")
def anon(workspace: WorkspaceInfo) -> Iterator[httpx.Client]:
    """A plain HTTP client of the package's workspace, without credentials."""
    with httpx.Client(base_url=workspace.base_url, timeout=60.0) as client:
        yield client


@pytest.fixture
def clean_faults(arm: Arm) -> Iterator[None]:
    """Disarm every fault after the test."""
    try:
        yield
    finally:
        arm.admin("DELETE", "faults")
