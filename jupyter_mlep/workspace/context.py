"""The server's shared state (one per running workspace) and the per-request call object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .arm import WORKSPACE_PATH, read_json
from .auth import TokenSigner, load_or_create_admin_token, new_key
from .faults import Faults
from .lro import OperationRunner
from .metrics import MetricSeries
from .store import Store

if TYPE_CHECKING:
    from ._paths import WorkspacePaths
    from .supervisor import Supervisor

__all__ = ["Call", "Workspace"]


@dataclass
class Workspace:
    """Everything the handlers share: state, credentials, operations, faults, metrics, deployments, jobs."""

    paths: WorkspacePaths
    store: Store
    admin_token: str
    signer: TokenSigner
    operations: OperationRunner
    faults: Faults = field(default_factory=Faults)
    metrics: MetricSeries = field(default_factory=MetricSeries)
    supervisor: Supervisor | None = None
    base_url: str = "http://127.0.0.1"
    jobs: Any = None  # the job scheduler (jobrun.JobScheduler), created on first use

    @classmethod
    def open(cls, paths: WorkspacePaths) -> Workspace:
        """Open (or create) the workspace stored below ``paths``."""
        paths.ensure()
        store = Store(paths.database)
        signing_key = store.secret("token-signing-key")
        if signing_key is None:
            signing_key = new_key()
            store.set_secret("token-signing-key", signing_key)
        if store.secret("storage-account-key") is None:
            store.set_secret("storage-account-key", new_key())
        return cls(
            paths=paths,
            store=store,
            admin_token=load_or_create_admin_token(paths.token),
            signer=TokenSigner(signing_key),
            operations=OperationRunner(store),
        )

    @property
    def storage_key(self) -> str:
        """The blob store's account key (base64)."""
        key = self.store.secret("storage-account-key")
        assert key is not None
        return key

    def arm_id(self, relative: str) -> str:
        """The full ARM id of a resource below the workspace."""
        return f"{WORKSPACE_PATH}/{relative}"


@dataclass
class Call:
    """One management-plane request, its path parameters and its api-version."""

    request: Request
    ws: Workspace
    params: dict[str, str]
    api_version: str

    async def body(self, *, required: bool = True) -> dict[str, Any]:
        """The request's JSON object body."""
        return await read_json(self.request, required=required)

    def query(self, name: str) -> str | None:
        """A query parameter, or None."""
        return self.request.query_params.get(name)
