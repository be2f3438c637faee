"""Invoking an endpoint's scoring URI: payload encoding, auth by the endpoint's mode, a chosen deployment."""

from __future__ import annotations

import json
import time
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RestError,
    ServiceError,
    ThrottledError,
    UsageError,
)
from ..rest import RestClient, TokenCache
from ._endpoints import get_endpoint, get_keys, get_token
from ._results import InvokeResult

if TYPE_CHECKING:
    import httpx

__all__ = ["DEPLOYMENT_HEADER", "encode_payload", "invoke", "scoring_headers"]

DEPLOYMENT_HEADER = "azureml-model-deployment"
Payload = dict[str, Any] | list[Any] | str | bytes | PathLike[str]


def encode_payload(payload: Payload) -> tuple[bytes, str, bool]:
    """The request body, its content type and whether it is JSON.

    A dict or list is sent as JSON; a path (``Path``) is read; a string is sent as written
    (JSON when it parses as JSON); bytes are sent as ``application/octet-stream``.
    """
    if isinstance(payload, PathLike):
        path = Path(payload)
        if not path.is_file():
            raise UsageError(
                f"The request file {path} does not exist.", hint="Check the path of the JSON request."
            )
        payload = path.read_bytes()
        return payload, *_kind(payload)
    if isinstance(payload, (dict, list)):
        return json.dumps(payload).encode(), "application/json", True
    if isinstance(payload, str):
        data = payload.encode()
        is_json = _kind(data)[1]
        return data, "application/json" if is_json else "text/plain", is_json
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload), "application/octet-stream", _kind(bytes(payload))[1]
    raise UsageError(
        f"A payload of type {type(payload).__name__} cannot be sent.",
        hint="Pass a dict, a list, a JSON string, bytes or a pathlib.Path of a request file.",
    )


def _kind(data: bytes) -> tuple[str, bool]:
    try:
        json.loads(data)
    except ValueError:
        return "application/octet-stream", False
    return "application/json", True


def scoring_headers(client: RestClient, endpoint: str, auth_mode: str) -> dict[str, str]:
    """The Authorization header for the endpoint's auth mode (key, aml_token or aad_token)."""
    if auth_mode == "aml_token":
        secret = get_token(client, endpoint).access_token
    elif auth_mode == "aad_token":
        secret = _aad_token(client)
    else:
        secret = get_keys(client, endpoint).primary_key
    return {"Authorization": f"Bearer {secret}"}


ML_SCOPE = "https://ml.azure.com/.default"
"""The scope of Microsoft Entra tokens for scoring ``aad_token`` endpoints in Azure."""


def _aad_token(client: RestClient) -> str:
    """A Microsoft Entra token for scoring: the ``ml.azure.com`` scope in Azure, the workspace's own
    token locally (the local workspace accepts its admin token)."""
    if client.target == "local":
        return client.tokens.token()
    return TokenCache(client.tokens.credential, ML_SCOPE, timeout=client.tokens.timeout).token()


def invoke(
    client: RestClient,
    endpoint: str,
    payload: Payload,
    *,
    deployment: str | None = None,
    timeout: float = 90.0,
    headers: dict[str, str] | None = None,
) -> InvokeResult:
    """Score ``payload`` on ``endpoint`` (or on ``deployment`` of it) and return the answer.

    Raises :class:`~jupyter_mlep.RestError` subclasses for refused, missing or failed requests.
    """
    info = get_endpoint(client, endpoint)
    if not info.scoring_uri:
        raise RestError(
            f"Endpoint '{endpoint}' has no scoring URI yet (state {info.provisioning_state}).",
            hint=f"Wait until it is provisioned (%endpoint show {endpoint}), then retry.",
        )
    body, content_type, is_json = encode_payload(payload)
    sent = {
        "Content-Type": content_type,
        **scoring_headers(client, endpoint, info.auth_mode),
        **(headers or {}),
    }
    if deployment:
        sent[DEPLOYMENT_HEADER] = deployment
    started = time.perf_counter()
    answer = client.score(info.scoring_uri, body, sent, timeout=timeout)
    elapsed = time.perf_counter() - started
    if answer.status_code >= 400:
        raise _scoring_error(endpoint, deployment, answer, is_json, info.scoring_uri)
    return InvokeResult(
        endpoint=endpoint,
        status=answer.status_code,
        body=_parse(answer),
        deployment=answer.headers.get(DEPLOYMENT_HEADER),
        elapsed=elapsed,
        content_type=answer.headers.get("content-type", ""),
    )


def _parse(answer: httpx.Response) -> Any:
    kind = answer.headers.get("content-type", "")
    if "json" in kind:
        try:
            return answer.json()
        except ValueError:
            return answer.text
    if kind.startswith("text/") or not answer.content:
        return answer.text
    try:
        return answer.content.decode("utf-8")
    except UnicodeDecodeError:
        return answer.content


def _scoring_error(
    endpoint: str, deployment: str | None, answer: httpx.Response, sent_json: bool, uri: str
) -> RestError:
    text = answer.text.strip()[:2000]
    options: dict[str, Any] = {"method": "POST", "url": uri, "status": answer.status_code}
    where = f"endpoint '{endpoint}'" + (f" (deployment '{deployment}')" if deployment else "")
    if answer.status_code in (401, 403):
        return AuthenticationError(
            f"The scoring request to {where} was refused ({answer.status_code}): {text}",
            hint=f"The key or token is wrong or was regenerated: fetch it again (%endpoint keys {endpoint}).",
            **options,
        )
    if answer.status_code == 429:
        return ThrottledError(
            f"Scoring {where} was still throttled (429) after every retry: {text}",
            hint="Send fewer requests at a time, or scale the deployment (%endpoint scale).",
            **options,
        )
    if answer.status_code == 404:
        return NotFoundError(
            f"Scoring {where} failed: {text}", hint=f"Check the names (%endpoint show {endpoint}).", **options
        )
    if not sent_json and answer.status_code in (400, 422, 500):
        return BadRequestError(
            f"Scoring {where} failed ({answer.status_code}): the payload is not JSON, and the scoring "
            f"script could not read it. It answered: {text}",
            hint='Send JSON (a dict, a list or a JSON string), e.g. {"data": [[1, 2, 3]]}, or make run() '
            "accept raw bytes (@rawhttp).",
            **options,
        )
    if "NoTrafficAssigned" in text:
        return ServiceError(
            f"Endpoint '{endpoint}' sends no live traffic to any deployment: {text}",
            hint=f"Give a deployment traffic (%endpoint traffic {endpoint} blue=100), or score one deployment "
            "with --deployment NAME.",
            **options,
        )
    kind = BadRequestError if answer.status_code < 500 else ServiceError
    return kind(
        f"Scoring {where} failed ({answer.status_code}): {text}",
        hint=f"Read the deployment's log (%endpoint logs {endpoint} {deployment or answer.headers.get(DEPLOYMENT_HEADER) or 'DEPLOYMENT'}) for the scoring script's error.",
        **options,
    )
