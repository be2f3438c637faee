"""ARM (and Blob service) error answers → the exception tree of :mod:`jupyter_mlep._errors`."""

from __future__ import annotations

import re
from typing import Any

import httpx

from .._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RestError,
    ServiceError,
    ThrottledError,
)

__all__ = ["error_from_response", "parse_error", "public_url"]

_HINTS = {
    401: "The token was refused: sign in again (az login), or check the credential and its tenant.",
    403: "The identity lacks permission on this resource (needs a role such as AzureML Data Scientist).",
    429: "The service is throttling requests; wait a little and retry.",
}


def public_url(url: httpx.URL | str) -> str:
    """A URL without its query (a SAS or a key may sit there)."""
    return str(httpx.URL(str(url)).copy_with(query=None))


def parse_error(response: httpx.Response) -> tuple[str | None, str, list[dict[str, Any]]]:
    """(code, message, details) of an error answer: an ARM body, a Blob XML body, or plain text."""
    code = response.headers.get("x-ms-error-code")
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        inner = body.get("error")
        error: dict[str, Any] = inner if isinstance(inner, dict) else body
        given = error.get("details")
        details: list[Any] = given if isinstance(given, list) else []
        message = str(error.get("message") or error.get("Message") or "").strip()
        return (
            str(error.get("code") or code or "") or None,
            message,
            [d for d in details if isinstance(d, dict)],
        )
    text = response.text if response.content else ""
    xml_code = re.search(r"<Code>(.*?)</Code>", text, re.DOTALL)
    xml_message = re.search(r"<Message>(.*?)</Message>", text, re.DOTALL)
    if xml_message:
        message = xml_message.group(1).strip().splitlines()[0]
        return (xml_code.group(1).strip() if xml_code else code), message, []
    return code, text.strip()[:500], []


def _class_for(status: int) -> type[RestError]:
    if status == 400:
        return BadRequestError
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return ThrottledError
    if status >= 500:
        return ServiceError
    return RestError


def error_from_response(response: httpx.Response, *, what: str | None = None) -> RestError:
    """The exception for an error answer (never holding a token, key or SAS)."""
    request = response.request
    code, message, details = parse_error(response)
    status = response.status_code
    if not message:
        message = f"{response.reason_phrase or 'Error'} (HTTP {status})"
    if what:
        message = f"{what}: {message}"
    return _class_for(status)(
        message,
        hint=_HINTS.get(status),
        method=request.method,
        url=public_url(request.url),
        status=status,
        code=code,
        details=details,
        request_id=response.headers.get("x-ms-request-id"),
        correlation_id=response.headers.get("x-ms-correlation-request-id"),
    )
