"""The REST client of the management plane: one ``httpx.Client`` per target, auth, api-version.

The same class serves every target (:mod:`jupyter_mlep.targets`); only the base URL and the
credential differ. The endpoints' own URIs (scoring, swagger) go through :meth:`RestClient.data_plane`::

    client = RestClient.from_settings(settings)         # local: starts the workspace if needed
    endpoint = client.get(client.paths.endpoint("blue"))
    client.begin("PUT", client.paths.endpoint("blue"), body).wait(progress=print)
    for item in client.list(client.paths.endpoints()):
        ...
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .._errors import NotFoundError, RestError
from .._version import __version__
from ..targets import Capabilities, Target, get_target
from ._credentials import ARM_SCOPE, TokenCache, TokenCredential
from ._dataplane import (
    DEPLOYMENT_HEADER,
    DataPlaneAnswer,
    data_plane_error,
    data_plane_retryable,
    data_plane_unreachable,
    parse_body,
)
from ._lro import FailureHook, Operation, ProgressCallback
from ._mapping import public_url
from ._paths import ArmPaths
from ._retry import RetryPolicy
from ._send import Sender, default_unreachable

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["MANAGEMENT_URL", "RestClient"]

MANAGEMENT_URL = "https://management.azure.com"


class RestClient:
    """An ARM client for one workspace: bearer auth, api-version, retries, LRO, paging.

    ``credential`` is any ``TokenCredential``; ``transport`` an httpx transport (tests, proxies);
    ``ca_file`` a certificate authority to trust instead of the system's (a local workspace with HTTPS).
    ``target`` is a registered target or its name (:mod:`jupyter_mlep.targets`): it words connection
    errors and tells the operations what the workspace can do (:attr:`capabilities`).
    """

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        *,
        workspace_path: str,
        api_version: str,
        target: str | Target = "azure",
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        credential_timeout: float = 30.0,
        scope: str = ARM_SCOPE,
        operation_timeout: float = 1800.0,
        min_poll_interval: float = 0.2,
        max_poll_interval: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        ca_file: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        """How HTTPS servers are verified: the system's authorities, or ``ca_file``'s (the local
        workspace's own); the blob uploads of this client verify the same way."""
        self.api_version = api_version
        self.target_info = target if isinstance(target, Target) else get_target(target)
        self.target = self.target_info.name
        """The target's name (for displays; ask :attr:`capabilities`, never the name)."""
        self.paths = ArmPaths(workspace_path)
        self.tokens = TokenCache(credential, scope, timeout=credential_timeout)
        self.operation_timeout = operation_timeout
        self.min_poll_interval = min_poll_interval
        self.max_poll_interval = max_poll_interval
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": f"jupyter-mlep/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
            verify=self.verify,
        )
        self._host = httpx.URL(self.base_url).host
        self.sender = Sender(
            self.http,
            retry or RetryPolicy(),
            unreachable=self._unreachable,
            sleep=sleep,
            show_request=self.capabilities.request_details,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        credential: TokenCredential | None = None,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> RestClient:
        """The client of ``settings.target``, resolved through the target registry.

        ``local``: the local workspace of ``settings.home`` (started when none runs) with its
        admin token. ``azure``: ``settings.arm_url`` (default ``https://management.azure.com``) with
        ``DefaultAzureCredential`` unless ``credential`` is given, asking for ``settings.arm_scope``.
        ``base_url`` replaces the target's address.
        """
        target = get_target(settings.target)
        address = target.connect(settings)
        if address.scope is not None:
            options.setdefault("scope", address.scope)
        if address.ca_file is not None:
            options.setdefault("ca_file", address.ca_file)
        return cls(
            base_url or address.base_url,
            credential if credential is not None else address.credential(),
            workspace_path=address.workspace_path,
            api_version=settings.api_version,
            target=target,
            transport=transport,
            **options,
        )

    @property
    def capabilities(self) -> Capabilities:
        """What the target can do (its metrics delay, the ``aad_token`` scoring scope, implicit start)."""
        return self.target_info.capabilities

    # -- plumbing -------------------------------------------------------------------------

    def _unreachable(self, request: httpx.Request, exc: httpx.TransportError) -> RestError:
        wording = self.target_info.unreachable
        if wording is None:
            return default_unreachable(request, exc)
        return wording.build(
            self.base_url, type(exc).__name__, method=request.method, url=public_url(request.url)
        )

    def _url(self, path: str, params: Mapping[str, Any] | None, *, api_version: bool = True) -> httpx.URL:
        url = httpx.URL(path) if path.startswith(("http://", "https://")) else httpx.URL(self.base_url + path)
        if params:
            url = url.copy_merge_params({k: v for k, v in params.items() if v is not None})
        if api_version and "api-version" not in url.params:
            url = url.copy_add_param("api-version", self.api_version)
        return url

    def _reauthorize(self) -> bool:
        self.tokens.invalidate()
        return True

    @property
    def request_count(self) -> int:
        """HTTP requests sent by this client so far (retries and polls included)."""
        return self.sender.sent

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        raise_errors: bool = True,
        retry: RetryPolicy | None = None,
        service: bool = False,
    ) -> httpx.Response:
        """Send one request (an ARM path, or an absolute URL such as a ``nextLink``) and return the answer.

        Transient failures are retried (see :class:`RetryPolicy`); error answers raise the mapped
        :class:`~jupyter_mlep.RestError` unless ``raise_errors`` is False. The token goes to the
        management host only, or with ``service`` to a URL of one of the workspace's own services
        (run history, MLflow tracking: see :mod:`._services`), which gets no api-version.
        """
        url = self._url(path, params, api_version=not service)
        same_host = service or url.host == self._host

        def build() -> httpx.Request:
            request_headers = dict(headers or {})
            if same_host:
                request_headers["Authorization"] = f"Bearer {self.tokens.token()}"
            return self.http.build_request(method, url, json=json, headers=request_headers)

        return self.sender.send(
            build,
            idempotent=idempotent,
            on_unauthorized=self._reauthorize if same_host else None,
            policy=retry,
            raise_errors=raise_errors,
        )

    def data_plane(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        headers: Mapping[str, str],
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float,
        deployment: str | None = None,
        action: str = "Scoring",
        sent_json: bool = True,
    ) -> DataPlaneAnswer:
        """Send one request to an endpoint's own URI (scoring, swagger…) and return the parsed answer.

        ``headers`` carry the endpoint's own key or token (never this client's); ``deployment``
        adds the ``azureml-model-deployment`` header. Requests that were not served (429, 502,
        503, 504, a dropped connection) are retried within the retry policy; a scoring script's
        own error (500) and a 503 saying that no deployment takes traffic are not. An error answer
        raises the mapped :class:`~jupyter_mlep.RestError` naming ``endpoint`` and ``deployment``;
        ``action`` names the call in messages ("Scoring", "Reading the OpenAPI document of") and
        ``sent_json`` False (a body that is not JSON) explains the scoring script's refusal.
        """
        sent = dict(headers)
        if deployment:
            sent[DEPLOYMENT_HEADER] = deployment
        target = httpx.URL(url)
        if params:
            target = target.copy_merge_params(dict(params))

        def build() -> httpx.Request:
            return self.http.build_request(method, target, content=content, headers=sent, timeout=timeout)

        def unreachable(request: httpx.Request, exc: httpx.TransportError) -> RestError:
            return data_plane_unreachable(
                request, exc, endpoint=endpoint, deployment=deployment, action=action
            )

        started = time.perf_counter()
        response = self.sender.send(
            build,
            idempotent=True,
            raise_errors=False,
            retryable=data_plane_retryable,
            unreachable=unreachable,
        )
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            raise self.sender.shown(
                data_plane_error(
                    response, endpoint=endpoint, deployment=deployment, action=action, sent_json=sent_json
                )
            )
        return DataPlaneAnswer(
            status=response.status_code,
            headers=response.headers,
            body=parse_body(response),
            content_type=response.headers.get("content-type", ""),
            deployment=response.headers.get(DEPLOYMENT_HEADER),
            elapsed=elapsed,
            size=len(response.content),
        )

    # -- JSON helpers ---------------------------------------------------------------------

    def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET a resource; its JSON body."""
        return _body(self.request("GET", path, params=params))

    def find(self, path: str) -> Any:
        """GET a resource; None when it does not exist (404)."""
        try:
            return self.get(path)
        except NotFoundError:
            return None

    def put(self, path: str, body: Any, *, params: Mapping[str, Any] | None = None) -> Any:
        """PUT a synchronous resource (assets, datastores, jobs); the JSON answer."""
        return _body(self.request("PUT", path, json=body, params=params))

    def post(self, path: str, body: Any = None, *, params: Mapping[str, Any] | None = None) -> Any:
        """POST an action that answers at once (listKeys, token, getLogs, listSecrets…); its JSON."""
        return _body(self.request("POST", path, json=body, params=params))

    def delete(self, path: str) -> None:
        """DELETE a synchronous resource (an asset version, a datastore)."""
        self.request("DELETE", path)

    def list(self, path: str, *, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """The items of a pageable list, following ``nextLink`` page after page (lazily)."""
        next_url: str | None = path
        first = True
        while next_url:
            page = _body(self.request("GET", next_url, params=params if first else None)) or {}
            first = False
            yield from page.get("value") or []
            next_url = page.get("nextLink") or None

    # -- long-running operations ----------------------------------------------------------

    def begin(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        on_failure: FailureHook | None = None,
    ) -> Operation:
        """Start a long-running operation (PUT, PATCH, DELETE or a POST action); wait with ``.wait()``.

        ``on_failure`` gives the log tail attached to the error when the operation fails.
        """
        response = self.request(method, path, json=body, params=params)
        return Operation(self, response, on_failure=on_failure)

    def run(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
        on_failure: FailureHook | None = None,
    ) -> Any:
        """Start a long-running operation and wait for it; the final resource body (or None)."""
        return self.begin(method, path, body, on_failure=on_failure).wait(timeout=timeout, progress=progress)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RestClient(target={self.target!r}, base_url={self.base_url!r}, api_version={self.api_version!r})"


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
