"""When to retry a request, and how long to wait: exponential backoff with jitter, ``Retry-After``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["RETRY_STATUSES", "SAFE_ACTIONS", "RetryPolicy", "is_busy_conflict", "retry_after"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SAFE_ACTIONS = frozenset(
    {"listkeys", "getlogs", "token", "listsecrets", "skus", "startpendingupload", "listsecretsv2"}
)
"""POST actions that change nothing (or create-or-get), so they may be sent again."""
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried.

    * ``attempts``: at most this many tries of one request (the first included);
    * ``total``: seconds after which no retry starts (the bound on the whole request);
    * ``backoff``/``max_backoff``: the exponential backoff (``backoff * 2**n``, capped, with jitter)
      used when the answer carries no ``Retry-After``; ``max_retry_after`` caps a ``Retry-After``;
    * ``conflict_wait``: seconds a 409 "operation in progress" is waited out and retried.
    """

    attempts: int = 6
    total: float = 60.0
    backoff: float = 0.5
    max_backoff: float = 16.0
    max_retry_after: float = 60.0
    conflict_wait: float = 300.0
    conflict_interval: float = 2.0

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        if response is not None:
            hinted = retry_after(response.headers)
            if hinted is not None:
                return min(hinted, self.max_retry_after)
        base = min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff)
        return base * (0.5 + random.random() / 2)

    @staticmethod
    def idempotent(method: str, url: httpx.URL | str) -> bool:
        """True for GET/HEAD/PUT/DELETE, and for POST actions that are safe to repeat."""
        method = method.upper()
        if method in _IDEMPOTENT:
            return True
        if method == "POST":
            last = httpx.URL(str(url)).path.rstrip("/").rsplit("/", 1)[-1].lower()
            return last in SAFE_ACTIONS
        return False


def retry_after(headers: httpx.Headers) -> float | None:
    """The ``Retry-After`` (or ``retry-after-ms``) of an answer in seconds: a number or an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        value = headers.get(name)
        if value:
            try:
                return max(float(value) * scale, 0.0)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def is_busy_conflict(response: httpx.Response) -> bool:
    """True for a 409 that says another operation is in progress on the resource (wait, then retry)."""
    if response.status_code != 409:
        return False
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return False
    code = str(error.get("code") or "").lower()
    message = str(error.get("message") or "").lower()
    busy = ("in progress", "another operation", "ongoing operation", "currently being updated")
    return "inprogress" in code or any(phrase in message for phrase in busy)
