"""Fixtures of the widget tests: an IPython shell in a chosen display mode, a sample tree.

The package's real local workspace (process runtime), ``client`` and ``use_workspace`` come from the
root conftest; what a cell displayed is read with ``support.displays``. ipywidgets work without a
front end: their comms are dummies, trait changes still happen and ``Output.outputs`` still fills.
Nothing of ours is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.samples import SampleTree
from support.waiting import unique

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient


@pytest.fixture
def mode_ip(ip: Any) -> Callable[[str], Any]:
    """``mode_ip("interactive")``: the test shell with ``%config MlepMagics.widgets`` set."""

    def set_mode(mode: str) -> Any:
        ip.run_line_magic("config", f"MlepMagics.widgets = {mode!r}")
        return ip

    return set_mode


@pytest.fixture
def tree(tmp_path: Path, azureml_examples: Path, client: RestClient) -> Iterator[SampleTree]:
    """The sample tree with a fresh endpoint name; the endpoint is deleted afterwards."""
    sample = SampleTree(tmp_path, azureml_examples, unique("st"))
    yield sample
    if client.find(client.paths.endpoint(sample.endpoint)) is not None:
        ops.delete_endpoint(client, sample.endpoint)
