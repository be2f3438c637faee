"""The limits of a scoring request, checked by the router before it forwards anything.

* Headers: at most :data:`MAX_HEADER_COUNT` fields of at most :data:`MAX_HEADER_FIELD_BYTES`
  each (name and value). These are the limits of the inference server's own HTTP server (gunicorn's
  ``limit_request_fields`` and ``limit_request_field_size``), which serves every deployment in
  Azure as here; past them gunicorn answers a bare 400. The router answers **431** instead, with
  an ARM error body naming the limit and the header, before the request reaches the deployment.
* Body: at most :data:`MAX_BODY_BYTES`; above it **413**, decided from ``Content-Length`` before
  the body is read, or as soon as a streamed body goes past it (the rest is not read).
"""

from __future__ import annotations

from collections.abc import Sequence

from .arm import ArmError

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEADER_COUNT",
    "MAX_HEADER_FIELD_BYTES",
    "body_too_large",
    "check_head",
]

MAX_HEADER_COUNT = 100
MAX_HEADER_FIELD_BYTES = 8190
MAX_BODY_BYTES = 100 * 1024 * 1024


def check_head(headers: Sequence[tuple[bytes, bytes]]) -> None:
    """Raise the 431 or 413 answer when the headers (or the ``Content-Length`` they announce) are
    over the limits."""
    if len(headers) > MAX_HEADER_COUNT:
        raise ArmError(
            431,
            "RequestHeaderFieldsTooLarge",
            f"The request has {len(headers)} header fields; a scoring request may have at most "
            f"{MAX_HEADER_COUNT}. Send fewer headers (put data in the body).",
        )
    for name, value in headers:
        if len(name) + len(value) > MAX_HEADER_FIELD_BYTES:
            raise ArmError(
                431,
                "RequestHeaderFieldsTooLarge",
                f"The header '{name.decode('latin-1')}' is {len(name) + len(value)} bytes long; a header field "
                f"of a scoring request may be at most {MAX_HEADER_FIELD_BYTES} bytes. Move the data to the body.",
            )
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            raise body_too_large(int(value))


def body_too_large(size: int | None = None) -> ArmError:
    """The 413 answer for a body of ``size`` bytes (or one found too large while it was read)."""
    told = f"is {size} bytes" if size is not None else "is larger than that"
    return ArmError(
        413,
        "RequestEntityTooLarge",
        f"The request body {told}; a scoring request may carry at most {MAX_BODY_BYTES // (1024 * 1024)} MiB. "
        "Send a smaller payload (split it into several requests, or use a batch endpoint for large inputs).",
    )
