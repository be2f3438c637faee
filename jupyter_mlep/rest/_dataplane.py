"""The data plane: requests to an endpoint's own URIs (``/score``, ``/swagger.json``…) and their errors.

Every data-plane call goes through :meth:`RestClient.data_plane
<jupyter_mlep.rest.RestClient.data_plane>`: the caller gives the endpoint's own key or token (never
the management plane's), the answer comes back parsed (:class:`DataPlaneAnswer`), and error answers
raise through one mapper (:func:`data_plane_error`) that names the endpoint and the deployment.

Throttling (429), an unavailable server (502, 503, 504) and dropped connections are retried within
the client's retry policy, honouring ``Retry-After``: such requests were not served. A scoring
script's own error (500) is never sent again, nor a 503 saying that no deployment takes traffic
(``NoTrafficAssigned``) or that the deployment has no ready server (``DeploymentNotReady``: it
names the deployment's provisioning state and failure reason, and retrying would not change them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RestError,
    ServiceError,
    ServiceUnreachableError,
    ThrottledError,
)
from ._mapping import parse_error, public_url

__all__ = [
    "DEPLOYMENT_HEADER",
    "DataPlaneAnswer",
    "data_plane_error",
    "data_plane_retryable",
    "data_plane_unreachable",
    "parse_body",
]

DEPLOYMENT_HEADER = "azureml-model-deployment"
"""The header naming a deployment: sent to choose one, answered to say which one served."""

_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_FINAL_CODES = ("NoTrafficAssigned", "DeploymentNotReady")
"""503 answers that are the endpoint's configuration or state, not a transient failure: not retried."""


@dataclass(frozen=True)
class DataPlaneAnswer:
    """A successful data-plane answer: status, headers, the parsed body and who served it."""

    status: int
    headers: Mapping[str, str]
    """The answer's headers (case-insensitive)."""
    body: Any
    """Parsed JSON for a JSON answer, text for text, otherwise text when it decodes as UTF-8, else bytes."""
    content_type: str
    deployment: str | None
    """The deployment that answered (the ``azureml-model-deployment`` header), when the router says."""
    elapsed: float
    """Seconds from sending (the first try) to the answer, retries included."""
    size: int
    """The body's length in bytes."""


def parse_body(response: httpx.Response) -> Any:
    """The body of ``response``: JSON, text, or bytes (see :attr:`DataPlaneAnswer.body`)."""
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        try:
            return response.json()
        except ValueError:
            return response.text
    if kind.startswith("text/") or not response.content:
        return response.text
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        return response.content


def data_plane_retryable(response: httpx.Response) -> bool:
    """Error answers that mean the request was not served (a configuration or state 503 excepted)."""
    return response.status_code in _RETRY_STATUSES and not any(code in response.text for code in _FINAL_CODES)


def _where(endpoint: str, deployment: str | None) -> str:
    return f"endpoint '{endpoint}'" + (f" (deployment '{deployment}')" if deployment else "")


def data_plane_error(
    response: httpx.Response,
    *,
    endpoint: str,
    deployment: str | None = None,
    action: str = "Scoring",
    sent_json: bool = True,
) -> RestError:
    """The error for a data-plane error answer.

    ``action`` names the call for messages ("Scoring", "Reading the OpenAPI document of");
    ``sent_json`` is False when the request body was not JSON (a likely cause of 400/422/500).
    """
    status = response.status_code
    text = response.text.strip()[:2000]
    options: dict[str, Any] = {
        "method": response.request.method,
        "url": public_url(response.request.url),
        "status": status,
    }
    where = _where(endpoint, deployment)
    answered = deployment or response.headers.get(DEPLOYMENT_HEADER) or "DEPLOYMENT"
    if status in (401, 403):
        return AuthenticationError(
            f"{action} {where} was refused ({status}): {text}",
            hint=f"The key or token is wrong or was regenerated: fetch it again (%endpoint keys {endpoint}).",
            **options,
        )
    if status == 429:
        return ThrottledError(
            f"{action} {where} was still throttled (429) after every retry: {text}",
            hint=f"Send fewer requests at a time, or scale the deployment (%endpoint scale {endpoint} {answered} --instance-count 2).",
            **options,
        )
    if status == 404:
        return NotFoundError(
            f"{action} {where} failed: {text}",
            hint=f"Check the names (%endpoint show {endpoint}).",
            **options,
        )
    if not sent_json and status in (400, 422, 500):
        return BadRequestError(
            f"{action} {where} failed ({status}): the payload is not JSON, and the scoring "
            f"script could not read it. It answered: {text}",
            hint='Send JSON (a dict, a list or a JSON string), e.g. {"data": [[1, 2, 3]]}, or make run() '
            "accept raw bytes (@rawhttp).",
            **options,
        )
    if "NoTrafficAssigned" in text:
        return ServiceError(
            f"Endpoint '{endpoint}' sends no live traffic to any deployment: {text}",
            hint=f"Give a deployment traffic (%endpoint traffic {endpoint} DEPLOYMENT=100), or choose one "
            "deployment with --deployment DEPLOYMENT.",
            **options,
        )
    if "DeploymentNotReady" in text:
        _, message, _ = parse_error(response)
        return ServiceError(
            f"{action} {where} was refused: {message or text}",
            hint=f"See its state and logs (%endpoint show {endpoint}, %endpoint logs {endpoint} {answered}); "
            "deploy it again once the cause is fixed.",
            code="DeploymentNotReady",
            **options,
        )
    kind = BadRequestError if status < 500 else ServiceError
    request_id = response.headers.get("x-request-id")
    only = f" --request-id {request_id}" if request_id else ""
    return kind(
        f"{action} {where} failed ({status}): {text}",
        hint=f"Read the deployment's log (%endpoint logs {endpoint} {answered}{only}) for the scoring "
        "script's error.",
        request_id=request_id or response.headers.get("x-ms-request-id"),
        **options,
    )


def data_plane_unreachable(
    request: httpx.Request, exc: httpx.TransportError, *, endpoint: str, deployment: str | None, action: str
) -> RestError:
    """The error when an endpoint's URI does not answer (after retries)."""
    url = public_url(request.url)
    return ServiceUnreachableError(
        f"{action} {_where(endpoint, deployment)} failed: {url} did not answer ({type(exc).__name__}).",
        hint=f"Check that the endpoint has a healthy deployment (%endpoint show {endpoint}), then retry.",
        method=request.method,
        url=url,
    )
