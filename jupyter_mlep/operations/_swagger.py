"""An endpoint's OpenAPI (swagger) document, as its deployment's inference server publishes it.

The document sits next to the scoring URI (``…/score`` → ``…/swagger.json``), behind the
endpoint's own key or token. ``version`` chooses the document's flavour (``2``, ``3`` or ``3.1``,
what the Azure ML inference server offers); a script decorated with inference-schema
(``@input_schema``/``@output_schema``) gets its request and response schemas in it.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._errors import NotFoundError, RestError, UsageError
from ..rendering import Result, html_table, text_table
from ..rest import RestClient
from ._invoke import scoring_endpoint, scoring_headers

__all__ = ["SWAGGER_VERSIONS", "SwaggerResult", "get_swagger"]

SWAGGER_VERSIONS = ("2", "3", "3.1")
"""The document versions the inference server offers (``?version=``)."""

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(repr=False)
class SwaggerResult(Result):
    """An endpoint's OpenAPI document: who answered, the version asked for, and the document."""

    kind: ClassVar[str] = "swagger"

    endpoint: str
    deployment: str | None
    """The deployment that answered (chosen by ``deployment=``, or by the traffic split)."""
    version: str | None
    """The version asked for (None: the server's default, 2)."""
    document: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        """The document (same as ``.document``)."""
        return self.document

    @property
    def title(self) -> str:
        """The API's title and version (``info.title`` and ``info.version``)."""
        info = self.document.get("info") or {}
        return (
            " ".join(str(part) for part in (info.get("title"), info.get("version")) if part) or "(untitled)"
        )

    @property
    def spec_version(self) -> str:
        """``swagger 2.0`` or ``openapi 3.x.y``, as the document declares."""
        for key in ("openapi", "swagger"):
            if key in self.document:
                return f"{key} {self.document[key]}"
        return "unknown format"

    def operations(self) -> list[tuple[str, list[str]]]:
        """Each path with its methods (upper case), in the document's order."""
        paths = self.document.get("paths") or {}
        return [
            (str(path), [m.upper() for m in _METHODS if isinstance(item, dict) and m in item])
            for path, item in paths.items()
        ]

    def request_example(self, path: str = "/score") -> Any:
        """The example request body the document gives for POST ``path`` (inference-schema's
        sample input; either document version, ``$ref`` followed), or None when it gives none."""
        post = ((self.document.get("paths") or {}).get(path) or {}).get("post") or {}
        schemas = [p.get("schema") for p in post.get("parameters") or [] if p.get("in") == "body"]
        content = ((post.get("requestBody") or {}).get("content") or {}).values()
        for media in content:
            if isinstance(media, dict):
                schemas.append({"example": media["example"]} if "example" in media else media.get("schema"))
        for schema in schemas:
            found = self._resolve(schema)
            if "example" in found:
                return found["example"]
        return None

    def _resolve(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """``schema`` with a local ``$ref`` (``#/definitions/…``, ``#/components/schemas/…``) followed."""
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/") or depth > 8:
            return schema
        target: Any = self.document
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return self._resolve(target, depth + 1)

    def _heading(self) -> str:
        who = f" (deployment {self.deployment})" if self.deployment else ""
        return f"OpenAPI document of endpoint '{self.endpoint}'{who}: {self.title}, {self.spec_version}"

    def text(self) -> str:
        rows = [(path, " ".join(methods)) for path, methods in self.operations()]
        return self._heading() + "\n" + text_table(["path", "methods"], rows)

    def html(self) -> str:
        rows = [(path, " ".join(methods)) for path, methods in self.operations()]
        return f"<p>{_html.escape(self._heading())}</p>" + html_table(["path", "methods"], rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "version": self.version,
            "title": self.title,
            "paths": {path: methods for path, methods in self.operations()},
            "document": self.document,
        }


def _check_version(version: str | int | float | None) -> str | None:
    if version is None:
        return None
    text = str(version).strip() if not isinstance(version, bool) else ""
    if text not in SWAGGER_VERSIONS:
        raise UsageError(
            f"Unknown OpenAPI document version {version!r}: the inference server offers "
            f"{', '.join(SWAGGER_VERSIONS[:-1])} or {SWAGGER_VERSIONS[-1]}.",
            hint="E.g. version='3' (--version 3), or leave it out for version 2.",
        )
    return text


def swagger_uri(scoring_uri: str) -> str:
    """The document's URI: the scoring URI with its last path segment ``score`` replaced."""
    base, _, last = scoring_uri.partition("?")[0].rstrip("/").rpartition("/")
    if last != "score" or not base:
        raise RestError(
            f"The scoring URI {scoring_uri} does not end with /score: its OpenAPI document cannot be found.",
            hint="Read the endpoint's openapi_uri (shown by %endpoint show) and fetch it yourself.",
        )
    return f"{base}/swagger.json"


def get_swagger(
    client: RestClient,
    endpoint: str,
    *,
    deployment: str | None = None,
    version: str | None = None,
    timeout: float = 30.0,
) -> SwaggerResult:
    """The OpenAPI document of ``endpoint`` (of ``deployment`` of it, else of the one traffic picks).

    ``version``: ``"2"`` (the server's default), ``"3"`` or ``"3.1"``. Raises
    :class:`~jupyter_mlep.UsageError` for another version, and the
    :class:`~jupyter_mlep.RestError` subclasses that scoring raises (unknown names, refused keys,
    no live traffic).
    """
    wanted = _check_version(version)
    info = scoring_endpoint(client, endpoint)
    assert info.scoring_uri is not None
    uri = swagger_uri(info.scoring_uri)
    try:
        answer = client.data_plane(
            "GET",
            uri,
            endpoint=endpoint,
            deployment=deployment,
            headers=scoring_headers(client, endpoint, info.auth_mode),
            params={"version": wanted} if wanted else None,
            timeout=timeout,
            action="Reading the OpenAPI document of",
        )
    except NotFoundError as exc:
        if "Swagger version" in str(exc):
            exc.hint = (
                "The scoring script offers no document of this version: try another "
                f"({', '.join(SWAGGER_VERSIONS)})."
            )
        raise
    if not isinstance(answer.body, dict):
        raise RestError(
            f"The OpenAPI document of endpoint '{endpoint}' is not a JSON object "
            f"({answer.content_type or 'no content type'}).",
            hint="Check the deployment's scoring script and any swagger*.json file in its code folder.",
            method="GET",
            url=uri,
            status=answer.status,
        )
    return SwaggerResult(
        endpoint=endpoint, deployment=answer.deployment, version=wanted, document=answer.body
    )
