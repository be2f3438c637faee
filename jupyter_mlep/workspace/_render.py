"""Rendering stored records as ARM resources, and paging lists the ARM way (``nextLink``)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from .arm import bad_request, system_data
from .context import Call, Workspace
from .store import Record

__all__ = ["envelope", "page"]

PAGE_SIZE = 100


def envelope(ws: Workspace, record: Record, resource_type: str) -> dict[str, Any]:
    """``id``, ``name``, ``type``, ``systemData`` and a copy of the stored body."""
    body = copy.deepcopy(record.body)
    return {
        "id": ws.arm_id(record.path),
        "name": record.name,
        "type": resource_type,
        "systemData": system_data(record.created_at, record.modified_at),
        **body,
    }


def _int_query(call: Call, *names: str) -> int | None:
    for name in names:
        value = call.query(name)
        if value is not None:
            try:
                number = int(value)
            except ValueError:
                raise bad_request(f"Query parameter '{name}' must be an integer, not {value!r}.") from None
            if number < 0:
                raise bad_request(f"Query parameter '{name}' must not be negative.")
            return number
    return None


def page(
    call: Call,
    items: Sequence[Record],
    render: Callable[[Record], dict[str, Any]],
    *,
    size_params: Sequence[str] = ("count", "$top"),
) -> dict[str, Any]:
    """One page of ``items`` (``$skip`` offset, page size from ``count``/``$top``) with ``nextLink``."""
    skip = _int_query(call, "$skip") or 0
    token = call.query("$skipToken")
    if token is not None and token.isdigit():  # older versions' continuation; other values start over
        skip = int(token)
    size = _int_query(call, *size_params) or PAGE_SIZE
    chunk = items[skip : skip + size]
    body: dict[str, Any] = {"value": [render(record) for record in chunk]}
    if skip + size < len(items):
        query = {
            key: value
            for key, value in call.request.query_params.items()
            if key not in ("$skip", "$skipToken")
        }
        query["$skip"] = str(skip + size)
        body["nextLink"] = f"{call.ws.base_url}{call.request.url.path}?{urlencode(query)}"
    return body
