"""Validate response bodies against the schemas of the saved 2026-07-01 spec extract.

The extract leaves ``$ref``s to common-types (TrackedResource, Sku, ManagedServiceIdentity…)
and to DataCollector unresolved. They are replaced here by stand-ins written from the
common-types v3 definitions (TrackedResource: ``location`` required, ``tags`` a string map;
Sku: ``name`` required; ManagedServiceIdentity: ``type`` required). Swagger 2.0 specifics are
mapped to JSON Schema: ``x-nullable: true`` also allows null.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "azureml-rest" / "2026-07-01"

_STANDINS: dict[str, Any] = {
    "TrackedResource": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "type": {"type": "string"},
            "systemData": {"$ref": "#/definitions/_SystemData"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "location": {"type": "string"},
        },
        "required": ["location"],
    },
    "_SystemData": {
        "type": "object",
        "properties": {
            "createdBy": {"type": "string"},
            "createdByType": {"enum": ["User", "Application", "ManagedIdentity", "Key"]},
            "createdAt": {"type": "string"},
            "lastModifiedBy": {"type": "string"},
            "lastModifiedByType": {"enum": ["User", "Application", "ManagedIdentity", "Key"]},
            "lastModifiedAt": {"type": "string"},
        },
    },
    "Sku": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tier": {"$ref": "#/definitions/SkuTier"},
            "size": {"type": "string"},
            "family": {"type": "string"},
            "capacity": {"type": "integer"},
        },
        "required": ["name"],
    },
    "SkuTier": {"type": "string", "enum": ["Free", "Basic", "Standard", "Premium"]},
    "ManagedServiceIdentity": {
        "type": "object",
        "properties": {
            "type": {"enum": ["None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"]},
            "principalId": {"type": "string"},
            "tenantId": {"type": "string"},
            "userAssignedIdentities": {"type": "object"},
        },
        "required": ["type"],
    },
    "DataCollector": {"type": "object"},
}


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            name = value.rsplit("/", 1)[-1]
            out[key] = f"#/definitions/{name}"
        elif key in (
            "discriminator",
            "x-ms-discriminator-value",
            "example",
            "x-ms-enum",
            "x-ms-secret",
            "x-ms-mutability",
            "x-ms-identifiers",
            "readOnly",
            "format",
        ):
            continue
        else:
            out[key] = _convert(value)
    if node.get("x-nullable") is True:
        out.pop("x-nullable")
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _spec() -> dict[str, Any]:
    spec = json.loads((REFERENCE / "openapi.online-endpoints.extract.json").read_text())
    errors = json.loads((REFERENCE / "common-types-v3-errors.extract.json").read_text())
    definitions = {**_STANDINS, **errors["definitions"], **spec["definitions"]}
    return {"paths": spec["paths"], "definitions": _convert(definitions)}


def operation(operation_id: str) -> dict[str, Any]:
    """The spec of one operation (by operationId)."""
    for item in _spec()["paths"].values():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return {"method": method, **op}
    raise KeyError(operation_id)


def validate(operation_id: str, status: int, body: Any) -> None:
    """Assert that ``body`` matches the response schema of ``status`` (or ``default``)."""
    responses = operation(operation_id)["responses"]
    response = responses.get(str(status)) or responses["default"]
    schema_ref = response.get("schema")
    assert schema_ref is not None or body in (None, b"", ""), f"{operation_id} {status} has no body schema"
    if schema_ref is None:
        return
    schema = {**_convert(schema_ref), "definitions": _spec()["definitions"]}
    jsonschema.Draft7Validator(schema).validate(body)


def validate_definition(name: str, body: Any) -> None:
    """Assert that ``body`` matches a named definition of the extract (or a common-types error)."""
    jsonschema.Draft7Validator(
        {"$ref": f"#/definitions/{name}", "definitions": _spec()["definitions"]}
    ).validate(body)


def examples() -> Path:
    """The saved examples folder."""
    return REFERENCE / "examples"
