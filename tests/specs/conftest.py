"""Fixtures for the specs tests: a workspace ARM path, asset ids, and the saved REST schema and examples."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jupyter_mlep.specs import workspace_path

REST_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "azureml-rest" / "2026-07-01"
WORKSPACE = workspace_path("00000000-1111-2222-3333-444444444444", "test-rg", "my-aml-workspace")
_DURATION = re.compile(r"^P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")

# The extract leaves common-types and DataCollector unresolved; these stand in for them.
_EXTERNAL: dict[str, dict[str, Any]] = {
    "TrackedResource": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "tags": {"type": "object"}},
        "required": ["location"],
    },
    "ManagedServiceIdentity": {
        "type": "object",
        "properties": {
            "type": {"enum": ["None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"]},
            "userAssignedIdentities": {"type": "object"},
        },
        "required": ["type"],
    },
    "Sku": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tier": {"type": "string"},
            "size": {"type": "string"},
            "family": {"type": "string"},
            "capacity": {"type": "integer"},
        },
        "required": ["name"],
    },
    "DataCollector": {"type": "object", "required": ["collections"]},
}


@pytest.fixture(scope="session")
def workspace() -> str:
    """The ARM path of the test workspace (the ids of the saved examples)."""
    return WORKSPACE


@pytest.fixture(scope="session")
def asset_ids() -> dict[str, str]:
    """Ids of registered inline assets, as the operations layer would pass them to to_rest()."""
    return {
        "model_id": f"{WORKSPACE}/models/inline-model/versions/1",
        "code_id": f"{WORKSPACE}/codes/inline-code/versions/1",
        "environment_id": f"{WORKSPACE}/environments/inline-env/versions/1",
    }


@pytest.fixture(scope="session")
def rest_examples() -> Path:
    """The saved x-ms-examples of api-version 2026-07-01 (and the 2024-10-01 ones it reuses)."""
    return REST_REFERENCE / "examples"


@pytest.fixture(scope="session")
def request_validator() -> Callable[[str, dict[str, Any]], None]:
    """``check(definition, body)``: validate a PUT body against the saved OpenAPI extract.

    ``allOf`` is flattened, swagger discriminators become ``oneOf`` over their subtypes,
    unknown and read-only properties are refused, and ``format: duration`` is checked.
    """
    definitions: dict[str, Any] = {}
    for extract in ("openapi.online-endpoints.extract.json", "openapi.batch-endpoints.extract.json"):
        definitions.update(json.loads((REST_REFERENCE / extract).read_text(encoding="utf-8"))["definitions"])
    checker = jsonschema.FormatChecker()
    checker.checks("duration")(lambda value: not isinstance(value, str) or bool(_DURATION.match(value)))

    def ref_name(ref: str) -> str:
        return ref.rsplit("/", 1)[-1]

    def subtypes(name: str) -> list[str]:
        return [
            sub
            for sub, schema in definitions.items()
            if any(ref_name(part.get("$ref", "")) == name for part in schema.get("allOf", []))
            and "x-ms-discriminator-value" in schema
        ]

    def flatten(name: str, *, concrete: bool = False) -> dict[str, Any]:
        if name in _EXTERNAL:
            return copy.deepcopy(_EXTERNAL[name])
        schema = definitions[name]
        if "discriminator" in schema and not concrete:
            return {"oneOf": [flatten(sub, concrete=True) for sub in subtypes(name)]}
        if "enum" in schema:
            return {"enum": schema["enum"]}
        properties: dict[str, Any] = {}
        required: list[str] = list(schema.get("required", []))
        for part in schema.get("allOf", []):
            parent = flatten(ref_name(part["$ref"]), concrete=True)
            properties.update(parent.get("properties", {}))
            required += parent.get("required", [])
        for key, prop in schema.get("properties", {}).items():
            if prop.get("readOnly"):
                continue
            properties[key] = resolve(prop)
        discriminator = None
        for part in schema.get("allOf", []):
            base = definitions.get(ref_name(part["$ref"]), {})
            discriminator = discriminator or base.get("discriminator")
        if discriminator and "x-ms-discriminator-value" in schema:
            properties[discriminator] = {"const": schema["x-ms-discriminator-value"]}
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    def resolve(prop: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in prop:
            return flatten(ref_name(prop["$ref"]))
        result = {
            key: value
            for key, value in prop.items()
            if key in ("type", "enum", "format", "minLength", "pattern")
        }
        if prop.get("type") == "object" and isinstance(prop.get("additionalProperties"), dict):
            result["additionalProperties"] = resolve(prop["additionalProperties"])
        return result

    def check(definition: str, body: dict[str, Any]) -> None:
        schema = flatten(definition)
        jsonschema.validate(body, schema, format_checker=checker)

    return check
