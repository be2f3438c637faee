"""A ready-to-run client of an endpoint (``%endpoint snippet``) in Python, curl, JavaScript or C#.

The program carries the scoring URI, reads the key or token from an environment variable named
after the endpoint (``MY_ENDPOINT_KEY``, ``MY_ENDPOINT_TOKEN``), sends a request (the one given,
else the example of the deployment's OpenAPI document, else a placeholder to replace) and handles
errors. The programs themselves are in :mod:`._snippet_code`.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .._errors import RestError, UsageError
from ..rendering import Result
from ..rest import RestClient
from ._invoke import Payload, encode_payload, scoring_endpoint
from ._snippet_code import LANGUAGES, SnippetInputs
from ._swagger import get_swagger

__all__ = ["SNIPPET_LANGUAGES", "SnippetResult", "get_snippet", "secret_variable", "swagger_example"]

SNIPPET_LANGUAGES = tuple(LANGUAGES)
"""The languages of :func:`get_snippet`."""

_PLACEHOLDER = {"data": [[1.0, 2.0, 3.0]]}


@dataclass(frozen=True, repr=False)
class SnippetResult(Result):
    """A client program for an endpoint: its language, suggested file name and code."""

    kind: ClassVar[str] = "snippet"

    endpoint: str
    deployment: str | None
    language: str
    filename: str
    variable: str
    """The environment variable the program reads the key or token from."""
    request_source: str
    """Where the request came from: ``given``, ``openapi example`` or ``placeholder``."""
    code: str

    def save(self, path: str | Path) -> Path:
        """Write the program to ``path`` (a folder: its suggested file name in it)."""
        target = Path(path)
        if target.is_dir():
            target = target / self.filename
        target.write_text(self.code, encoding="utf-8")
        if self.language == "curl":
            target.chmod(0o755)
        return target

    def text(self) -> str:
        return self.code

    def html(self) -> str:
        note = f"{self.filename}: set {self.variable} first; request from {self.request_source}."
        return f"<div><div>{_html.escape(note)}</div><pre>{_html.escape(self.code)}</pre></div>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "language": self.language,
            "filename": self.filename,
            "variable": self.variable,
            "requestSource": self.request_source,
            "code": self.code,
        }


def secret_variable(endpoint: str, auth_mode: str) -> str:
    """``MY_ENDPOINT_KEY`` (key auth) or ``MY_ENDPOINT_TOKEN`` (token auth) for ``my-endpoint``."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", endpoint).strip("_").upper() or "ENDPOINT"
    return f"{stem}_{'KEY' if auth_mode == 'key' else 'TOKEN'}"


def _how(endpoint: str, auth_mode: str, variable: str) -> str:
    if auth_mode == "aad_token":
        return f'export {variable}="$(az account get-access-token --resource https://ml.azure.com --query accessToken -o tsv)"'
    read = (
        f"get_keys(m.connect(), {endpoint!r}).primary_key"
        if auth_mode == "key"
        else f"get_token(m.connect(), {endpoint!r}).access_token"
    )
    return f'export {variable}="$(python -c "import jupyter_mlep as m; print(m.{read})")"'


def swagger_example(document: dict[str, Any]) -> Any | None:
    """The request example of ``POST /score`` in an OpenAPI 2 or 3 document (inference-schema
    puts one there), or None."""
    post = ((document.get("paths") or {}).get("/score") or {}).get("post") or {}
    schema = (((post.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get(
        "schema"
    )
    if schema is None:
        schema = next((p.get("schema") for p in post.get("parameters") or [] if p.get("in") == "body"), None)
    for _ in range(8):  # follow $ref chains, bounded
        if not isinstance(schema, dict) or "$ref" not in schema:
            break
        node: Any = document
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        schema = node
    return schema.get("example") if isinstance(schema, dict) else None


def _request(
    client: RestClient, endpoint: str, deployment: str | None, given: Payload | None
) -> tuple[Any, str]:
    if given is not None:
        body, _, is_json = encode_payload(given)
        if not is_json:
            raise UsageError(
                "The request of a snippet must be JSON.", hint="Give a JSON file, dict or string."
            )
        return json.loads(body), "given"
    try:
        example = swagger_example(get_swagger(client, endpoint, deployment=deployment, version="3").document)
    except RestError:
        example = None
    return (example, "openapi example") if example is not None else (_PLACEHOLDER, "placeholder")


def get_snippet(
    client: RestClient,
    endpoint: str,
    *,
    language: str = "python",
    deployment: str | None = None,
    request: Payload | None = None,
) -> SnippetResult:
    """A program that scores ``endpoint`` (pinned to ``deployment`` when given) in ``language``
    (:data:`SNIPPET_LANGUAGES`), sending ``request`` (default: the OpenAPI example)."""
    if language not in LANGUAGES:
        raise UsageError(
            f"No snippet for language {language!r}.", hint="Languages: " + ", ".join(SNIPPET_LANGUAGES) + "."
        )
    info = scoring_endpoint(client, endpoint)
    assert info.scoring_uri is not None
    body, source = _request(client, endpoint, deployment, request)
    variable = secret_variable(endpoint, info.auth_mode)
    filename, write = LANGUAGES[language]
    inputs = SnippetInputs(
        endpoint=endpoint,
        scoring_uri=info.scoring_uri,
        variable=variable,
        how=_how(endpoint, info.auth_mode, variable),
        request=body,
        deployment=deployment,
    )
    return SnippetResult(endpoint, deployment, language, filename, variable, source, write(inputs))
