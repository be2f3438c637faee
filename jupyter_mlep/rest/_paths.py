"""ARM paths of a workspace's resources (``{ws}/onlineEndpoints/{name}``, …); names are URL-quoted."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["ArmPaths"]


def _q(value: str) -> str:
    return quote(str(value), safe="")


@dataclass(frozen=True)
class ArmPaths:
    """The paths below one workspace (``workspace`` is its ARM path, ``/subscriptions/…/workspaces/<ws>``)."""

    workspace: str

    def endpoints(self) -> str:
        """``{ws}/onlineEndpoints``."""
        return f"{self.workspace}/onlineEndpoints"

    def endpoint(self, name: str, action: str | None = None) -> str:
        """An endpoint, or one of its actions (``listKeys``, ``regenerateKeys``, ``token``)."""
        path = f"{self.endpoints()}/{_q(name)}"
        return f"{path}/{action}" if action else path

    def deployments(self, endpoint: str) -> str:
        """The deployments of an endpoint."""
        return f"{self.endpoint(endpoint)}/deployments"

    def deployment(self, endpoint: str, name: str, action: str | None = None) -> str:
        """A deployment, or one of its actions (``getLogs``, ``skus``)."""
        path = f"{self.deployments(endpoint)}/{_q(name)}"
        return f"{path}/{action}" if action else path

    def batch_endpoints(self) -> str:
        """``{ws}/batchEndpoints``."""
        return f"{self.workspace}/batchEndpoints"

    def batch_endpoint(self, name: str, action: str | None = None) -> str:
        """A batch endpoint, or ``listkeys`` (lowercase, as the batch API spells it)."""
        path = f"{self.batch_endpoints()}/{_q(name)}"
        return f"{path}/{action}" if action else path

    def batch_deployments(self, endpoint: str) -> str:
        """The deployments of a batch endpoint."""
        return f"{self.batch_endpoint(endpoint)}/deployments"

    def batch_deployment(self, endpoint: str, name: str) -> str:
        """A batch deployment."""
        return f"{self.batch_deployments(endpoint)}/{_q(name)}"

    def assets(self, family: str) -> str:
        """The containers of an asset family: ``models``, ``codes`` or ``environments``."""
        if family not in ("models", "codes", "environments", "data"):
            raise ValueError(f"Unknown asset family {family!r}")
        return f"{self.workspace}/{family}"

    def asset(self, family: str, name: str) -> str:
        """An asset container."""
        return f"{self.assets(family)}/{_q(name)}"

    def asset_versions(self, family: str, name: str) -> str:
        """The versions of an asset container."""
        return f"{self.asset(family, name)}/versions"

    def asset_version(self, family: str, name: str, version: str, action: str | None = None) -> str:
        """An asset version, or one of its actions (``startPendingUpload``)."""
        path = f"{self.asset_versions(family, name)}/{_q(version)}"
        return f"{path}/{action}" if action else path

    def models(self) -> str:
        """``{ws}/models``."""
        return self.assets("models")

    def model_version(self, name: str, version: str) -> str:
        """``{ws}/models/{name}/versions/{version}``."""
        return self.asset_version("models", name, version)

    def code_version(self, name: str, version: str, action: str | None = None) -> str:
        """``{ws}/codes/{name}/versions/{version}``."""
        return self.asset_version("codes", name, version, action)

    def environment_version(self, name: str, version: str) -> str:
        """``{ws}/environments/{name}/versions/{version}``."""
        return self.asset_version("environments", name, version)

    def datastores(self) -> str:
        """``{ws}/datastores``."""
        return f"{self.workspace}/datastores"

    def datastore(self, name: str, action: str | None = None) -> str:
        """A datastore, or ``listSecrets``."""
        path = f"{self.datastores()}/{_q(name)}"
        return f"{path}/{action}" if action else path

    def computes(self) -> str:
        """``{ws}/computes``."""
        return f"{self.workspace}/computes"

    def compute(self, name: str) -> str:
        """A compute."""
        return f"{self.computes()}/{_q(name)}"

    def jobs(self) -> str:
        """``{ws}/jobs``."""
        return f"{self.workspace}/jobs"

    def job(self, name: str, action: str | None = None) -> str:
        """A job, or ``cancel``."""
        path = f"{self.jobs()}/{_q(name)}"
        return f"{path}/{action}" if action else path
