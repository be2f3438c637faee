"""The REST client factory of the tests (local-target clients of a workspace with fast retries),
and the blue/green sample deployed through it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlep.rest import RestClient, RetryPolicy, StaticTokenCredential
from jupyter_mlep.workspace import WorkspaceInfo

from .arm import API
from .samples import SampleTree

FAST_RETRY = RetryPolicy(
    attempts=6, total=15.0, backoff=0.05, max_backoff=0.5, conflict_wait=30.0, conflict_interval=0.3
)
"""Retries of the tests: the production policy's behaviour, with short waits."""


def make_client(info: WorkspaceInfo, **options: Any) -> RestClient:
    """A local-target client of ``info`` with fast retries (unless overridden), trusting its
    certificate authority when it serves HTTPS."""
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_version", API)
    if info.ca_file is not None:  # a workspace serving HTTPS: trust its own authority
        options.setdefault("ca_file", str(info.ca_file))
    return RestClient(
        info.base_url,
        StaticTokenCredential(info.token),
        workspace_path=info.workspace_path,
        target="local",
        **options,
    )


def factory(info: WorkspaceInfo) -> Callable[[], RestClient]:
    """A client factory for widgets (they close the clients they make)."""
    return lambda: make_client(info)


@dataclass
class DeployedSample:
    """The sample deployed on one endpoint: its tree and what each deploy returned."""

    tree: SampleTree
    blue: Any
    green: Any | None


@contextlib.contextmanager
def deployed_sample(
    info: WorkspaceInfo, root: Path, examples: Path, endpoint: str, *, green: bool = True
) -> Iterator[DeployedSample]:
    """The sample tree (in ``root``) on ``endpoint``: blue (model-1) with all the traffic and,
    unless ``green=False``, green (model-2) with none; the endpoint is deleted at exit."""
    from jupyter_mlep import operations as ops
    from jupyter_mlep.specs import load_deployment, load_endpoint

    tree = SampleTree(root, examples, endpoint)
    with make_client(info) as client:
        ops.create_endpoint(client, load_endpoint(tree.endpoint_yml))
        try:
            blue = ops.deploy(client, load_deployment(tree.blue), traffic=100, timeout=600)
            second = ops.deploy(client, load_deployment(tree.green), timeout=300) if green else None
            yield DeployedSample(tree, blue, second)
        finally:
            ops.delete_endpoint(client, tree.endpoint, timeout=120)
