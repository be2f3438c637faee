"""List Blobs: the ``EnumerationResults`` XML, with prefixes, delimiters and paging markers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import formatdate

from starlette.requests import Request
from starlette.responses import Response

from ._identity import ACCOUNT, STORAGE_VERSION
from .store import BlobMeta, Store

__all__ = ["http_date", "list_blobs", "xml_escape"]

ErrorFactory = Callable[[int, str, str], Response]


def xml_escape(text: str) -> str:
    """Escape text for XML element content and attributes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def http_date(iso: str) -> str:
    """An ISO 8601 UTC time as an HTTP date."""
    return formatdate(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp(), usegmt=True)


def list_blobs(
    request: Request,
    store: Store,
    container: str,
    error: ErrorFactory,
    *,
    metadata: Callable[[BlobMeta], dict[str, str]] | None = None,
) -> Response:
    """List Blobs (``prefix``, ``delimiter``, ``maxresults``, ``marker``, ``include=metadata``) as Azure's XML.

    ``metadata`` gives a blob's user metadata, listed when ``include`` names ``metadata``.
    """
    query = request.query_params
    include = {part.strip().lower() for part in query.get("include", "").split(",") if part.strip()}
    with_metadata = metadata is not None and "metadata" in include
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter")
    marker = query.get("marker", "")
    try:
        max_results = int(query.get("maxresults", "5000"))
    except ValueError:
        return error(400, "InvalidQueryParameterValue", "maxresults must be an integer.")
    items: list[tuple[str, BlobMeta | None]] = []
    seen_prefixes: set[str] = set()
    for meta in store.list_blobs(container, prefix):
        rest = meta.name[len(prefix) :]
        if delimiter and delimiter in rest:
            folder = prefix + rest.split(delimiter, 1)[0] + delimiter
            if folder not in seen_prefixes:
                seen_prefixes.add(folder)
                items.append((folder, None))
        else:
            items.append((meta.name, meta))
    items = [item for item in items if item[0] > marker] if marker else items
    chunk, rest_items = items[:max_results], items[max_results:]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<EnumerationResults ServiceEndpoint="{xml_escape(str(request.base_url))}{ACCOUNT}/" ContainerName="{xml_escape(container)}">',
        f"<Prefix>{xml_escape(prefix)}</Prefix>" if prefix else "",
        f"<Marker>{xml_escape(marker)}</Marker>" if marker else "",
        f"<MaxResults>{max_results}</MaxResults>" if "maxresults" in query else "",
        f"<Delimiter>{xml_escape(delimiter)}</Delimiter>" if delimiter else "",
        "<Blobs>",
    ]
    for name, item in chunk:
        if item is None:
            parts.append(f"<BlobPrefix><Name>{xml_escape(name)}</Name></BlobPrefix>")
            continue
        parts.append(
            f"<Blob><Name>{xml_escape(name)}</Name><Properties>"
            f"<Creation-Time>{http_date(item.modified_at)}</Creation-Time>"
            f"<Last-Modified>{http_date(item.modified_at)}</Last-Modified><Etag>{xml_escape(item.etag)}</Etag>"
            f"<Content-Length>{item.size}</Content-Length>"
            f"<Content-Type>{xml_escape(item.content_type or 'application/octet-stream')}</Content-Type>"
            f"<Content-MD5>{xml_escape(item.content_md5 or '')}</Content-MD5>"
            "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>"
            "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
            "<ServerEncrypted>true</ServerEncrypted></Properties>"
            + (_metadata_xml(metadata(item)) if metadata is not None and with_metadata else "")
            + "</Blob>"
        )
    parts.append("</Blobs>")
    parts.append(f"<NextMarker>{xml_escape(chunk[-1][0])}</NextMarker>" if rest_items else "<NextMarker />")
    parts.append("</EnumerationResults>")
    return Response("".join(parts), media_type="application/xml", headers={"x-ms-version": STORAGE_VERSION})


def _metadata_xml(metadata: dict[str, str]) -> str:
    return (
        "<Metadata>"
        + "".join(f"<{name}>{xml_escape(value)}</{name}>" for name, value in sorted(metadata.items()))
        + "</Metadata>"
    )
