"""Invoking an endpoint's scoring URI: payload encoding, auth by the endpoint's mode, a chosen deployment."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from .._errors import RestError, UsageError
from ..rest import DEPLOYMENT_HEADER, RestClient, TokenCache
from ..scoring import jsonable
from ..scoring._request import dataframe_request
from ..specs import OnlineEndpoint
from ._endpoints import get_endpoint, get_keys, get_token
from ._results import InvokeResult

__all__ = ["DEPLOYMENT_HEADER", "encode_payload", "invoke", "scoring_endpoint", "scoring_headers"]

Payload = dict[str, Any] | list[Any] | str | bytes | PathLike[str]


def encode_payload(payload: Payload) -> tuple[bytes, str, bool]:
    """The request body, its content type and whether it is JSON.

    A path (``Path``) is read; a string is sent as written (JSON when it parses as JSON); bytes are
    sent as ``application/octet-stream``; a pandas DataFrame as ``{"input_data": <split>}`` (the input
    of MLflow models deployed without code); anything else as JSON, arrays converted
    (:func:`~jupyter_mlep.scoring.jsonable`).
    """
    if isinstance(payload, PathLike):
        path = Path(payload)
        if not path.is_file():
            raise UsageError(
                f"The request file {path} does not exist.", hint="Check the path of the JSON request."
            )
        payload = path.read_bytes()
        return payload, *_kind(payload)
    if isinstance(payload, str):
        data = payload.encode()
        is_json = _kind(data)[1]
        return data, "application/json" if is_json else "text/plain", is_json
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload), "application/octet-stream", _kind(bytes(payload))[1]
    return json.dumps(jsonable(dataframe_request(payload), "The payload")).encode(), "application/json", True


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


def _aad_token(client: RestClient) -> str:
    """A Microsoft Entra token for scoring: of the target's scoring scope (``ml.azure.com`` in
    Azure), or the client's own token where the workspace accepts it (the local workspace)."""
    scope = client.capabilities.scoring_scope
    if scope is None:
        return client.tokens.token()
    return TokenCache(client.tokens.credential, scope, timeout=client.tokens.timeout).token()


def scoring_endpoint(client: RestClient, endpoint: str) -> OnlineEndpoint:
    """The endpoint, checked to have a scoring URI (a :class:`~jupyter_mlep.RestError` otherwise)."""
    info = get_endpoint(client, endpoint)
    if not info.scoring_uri:
        raise RestError(
            f"Endpoint '{endpoint}' has no scoring URI yet (state {info.provisioning_state}).",
            hint=f"Wait until it is provisioned (%endpoint show {endpoint}), then retry.",
        )
    return info


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
    info = scoring_endpoint(client, endpoint)
    assert info.scoring_uri is not None
    body, content_type, is_json = encode_payload(payload)
    sent = {
        "Content-Type": content_type,
        **scoring_headers(client, endpoint, info.auth_mode),
        **(headers or {}),
    }
    answer = client.data_plane(
        "POST",
        info.scoring_uri,
        endpoint=endpoint,
        deployment=deployment,
        headers=sent,
        content=body,
        timeout=timeout,
        sent_json=is_json,
    )
    return InvokeResult(
        endpoint=endpoint,
        status=answer.status,
        body=answer.body,
        deployment=answer.deployment,
        elapsed=answer.elapsed,
        content_type=answer.content_type,
    )
