"""ARM conventions of the local workspace: its identity, api-versions, error bodies, JSON answers.

Errors follow common-types v3 ``ErrorResponse``: ``{"error": {"code", "message", "details"}}``.
Handlers raise :class:`ArmError`; the application turns it into the response.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "API_VERSIONS",
    "LOCATION",
    "PROVIDER",
    "RESOURCE_GROUP",
    "SUBSCRIPTION_ID",
    "WORKSPACE_NAME",
    "WORKSPACE_PATH",
    "ArmError",
    "api_version",
    "bad_request",
    "error_body",
    "json_response",
    "not_found",
    "now_iso",
    "read_json",
    "system_data",
]

from ._identity import (
    API_VERSIONS,
    LOCATION,
    PROVIDER,
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    WORKSPACE_NAME,
    WORKSPACE_PATH,
)


class ArmError(Exception):
    """An ARM error answer: HTTP status, error code, message and optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.target = target
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The ``ErrorResponse`` body."""
        return error_body(self.code, self.message, details=self.details, target=self.target)

    def response(self) -> Response:
        """The HTTP response for this error."""
        return json_response(self.body(), self.status, headers=self.headers)


def error_body(
    code: str, message: str, *, details: list[dict[str, Any]] | None = None, target: str | None = None
) -> dict[str, Any]:
    """A common-types v3 ``ErrorResponse``."""
    error: dict[str, Any] = {"code": code, "message": message, "details": details or []}
    if target:
        error["target"] = target
    return {"error": error}


def bad_request(message: str, *, target: str | None = None, code: str = "BadArgument") -> ArmError:
    """A 400 with the ARM code used for invalid bodies."""
    detail = {"code": code, "message": message, **({"target": target} if target else {})}
    return ArmError(400, code, message, target=target, details=[detail])


def not_found(kind: str, name: str) -> ArmError:
    """A 404 ``ResourceNotFound`` naming what is missing."""
    return ArmError(
        404, "ResourceNotFound", f"The {kind} '{name}' was not found in workspace '{WORKSPACE_NAME}'."
    )


def json_response(body: Any, status: int = 200, *, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (compact, UTF-8)."""
    content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
    response = Response(content, status_code=status, headers=headers)
    if body is not None:
        response.headers["content-type"] = "application/json; charset=utf-8"
    return response


def api_version(request: Request) -> str:
    """The request's ``api-version``; a 400 as ARM gives when it is missing or unknown."""
    version = request.query_params.get("api-version")
    if not version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in API_VERSIONS:
        supported = ", ".join(sorted(API_VERSIONS))
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{supported}'.",
        )
    return version


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object body of a request (400 if it is not one)."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise bad_request("The request body is required.", code="InvalidRequestContent")
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise bad_request(
            f"The request content was invalid and could not be deserialized: {exc}.",
            code="InvalidRequestContent",
        ) from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.", code="InvalidRequestContent")
    return data


def now_iso() -> str:
    """The current UTC time as ARM writes it."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def system_data(created_at: str, modified_at: str) -> dict[str, str]:
    """The ``systemData`` of a resource (the local user is the actor)."""
    return {
        "createdAt": created_at,
        "createdBy": "local-user",
        "createdByType": "User",
        "lastModifiedAt": modified_at,
        "lastModifiedBy": "local-user",
        "lastModifiedByType": "User",
    }
