"""Azure Blob datastores (``azureBlob.schema.json``, ``type: azure_blob``) and their REST body
(``Datastore`` with ``datastoreType: AzureBlob``).

``credentials`` holds an ``account_key`` or a ``sas_token``; without it the datastore reaches its
storage with the caller's identity (``credentialsType: None``). Secrets go into the request body
only: the service keeps them apart and answers them through ``listSecrets``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from .._errors import SpecValidationError
from ._base import SpecModel, StrDict, TopLevelSpec, compact, parse_spec, snake

__all__ = ["AzureBlobDatastore", "DatastoreCredentials"]


class DatastoreCredentials(SpecModel):
    """``credentials``: an account key or a SAS token (not both)."""

    account_key: str | None = None
    sas_token: str | None = None


def _blob_type(value: Any) -> Any:
    return snake(value) if isinstance(value, str) else value


class AzureBlobDatastore(TopLevelSpec):
    """A datastore on an Azure Blob container."""

    kind: ClassVar[str] = "azureBlob"
    name: str
    type: Annotated[Literal["azure_blob"], BeforeValidator(_blob_type)] = "azure_blob"
    description: str | None = None
    tags: StrDict | None = None
    properties: StrDict | None = None
    account_name: str
    container_name: str
    endpoint: str | None = None
    protocol: Annotated[Literal["https", "wasbs"], BeforeValidator(_blob_type)] | None = None
    credentials: DatastoreCredentials | None = None
    service_data_access_auth_identity: str | None = None

    def check(self, *, complete: bool = False) -> None:
        creds = self.credentials
        if creds is not None and creds.account_key and creds.sas_token:
            raise SpecValidationError(
                f"Datastore {self.name!r} gives both an account key and a SAS token.",
                hint="Keep credentials.account_key or credentials.sas_token.",
            )

    def to_rest(self) -> dict[str, Any]:
        """The Datastore body (secrets included: the service keeps them apart)."""
        self.check(complete=True)
        creds = self.credentials
        if creds is not None and creds.account_key:
            credentials: dict[str, Any] = {
                "credentialsType": "AccountKey",
                "secrets": {"secretsType": "AccountKey", "key": creds.account_key},
            }
        elif creds is not None and creds.sas_token:
            credentials = {
                "credentialsType": "Sas",
                "secrets": {"secretsType": "Sas", "sasToken": creds.sas_token},
            }
        else:
            credentials = {"credentialsType": "None"}
        properties = {
            "datastoreType": "AzureBlob",
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "accountName": self.account_name,
            "containerName": self.container_name,
            "endpoint": self.endpoint or "core.windows.net",
            "protocol": self.protocol or "https",
            "credentials": credentials,
            "serviceDataAccessAuthIdentity": self.service_data_access_auth_identity,
        }
        return {"properties": compact(properties)}

    @classmethod
    def from_rest(cls, body: dict[str, Any]) -> AzureBlobDatastore:
        """A datastore from a Datastore body (secrets are never part of one)."""
        props = body.get("properties") or {}
        data = {
            "name": body.get("name"),
            "description": props.get("description"),
            "tags": props.get("tags") or None,
            "properties": props.get("properties") or None,
            "account_name": props.get("accountName"),
            "container_name": props.get("containerName"),
            "endpoint": props.get("endpoint"),
            "protocol": props.get("protocol"),
        }
        return parse_spec(cls, compact(data), rest=True)
