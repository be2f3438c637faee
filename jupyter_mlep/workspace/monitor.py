"""``GET {endpoint|deployment}/providers/Microsoft.Insights/metrics``: the Azure Monitor metrics
REST API for the local workspace's online endpoints and deployments (see :mod:`.metrics`).

Query parameters as Azure Monitor takes them: ``api-version`` (:data:`MONITOR_API_VERSIONS`),
``metricnames`` (comma-separated), ``timespan`` (``<start>/<end>`` in ISO 8601, or a duration
such as ``PT1H`` ending now; default the last hour), ``interval`` (``PT1M``, ``PT5M``, ``PT1H``…,
or ``FULL``: one point for exactly the timespan, counted to the second, see :mod:`.metrics`),
``aggregation`` (comma-separated: average, count, maximum, minimum, total) and ``$filter``
(``deployment eq 'blue' and statusCode eq '*'``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from starlette.requests import Request
from starlette.responses import Response

from .arm import ArmError, bad_request, json_response
from .context import Workspace
from .deployments import find_deployment
from .endpoints import find_endpoint
from .metrics import DEFINITIONS, RETENTION_MINUTES, parse_filter

__all__ = ["METRICS_PATH", "MONITOR_API_VERSIONS", "metrics_response"]

MONITOR_API_VERSIONS = frozenset({"2018-01-01", "2019-07-01", "2021-05-01", "2023-10-01", "2024-02-01"})

METRICS_PATH = re.compile(
    r"^(?P<resource>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices"
    r"/workspaces/[^/]+/onlineEndpoints/(?P<endpoint>[^/]+)(?:/deployments/(?P<deployment>[^/]+))?)"
    r"/providers/Microsoft\.Insights/metrics$",
    re.IGNORECASE,
)

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.IGNORECASE)


def _duration(text: str, what: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groups()):
        raise bad_request(f"'{what}' must be an ISO 8601 duration such as PT1M or PT1H, not '{text}'.")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"'timespan' has an invalid time '{text}'.") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _timespan(text: str | None, now: datetime) -> tuple[datetime, datetime]:
    if not text:
        return now - timedelta(hours=1), now
    if "/" in text:
        first, second = text.split("/", 1)
        start = _instant(first)
        end = start + _duration(second, "timespan") if second.upper().startswith("P") else _instant(second)
    else:
        end = now
        start = end - _duration(text, "timespan")
    if end <= start:
        raise bad_request(f"'timespan' must end after it starts: '{text}'.")
    return start, end


def _interval_text(interval: timedelta | None) -> str:
    if interval is None:
        return "FULL"
    minutes = int(interval.total_seconds() // 60)
    return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"


def metrics_response(request: Request, ws: Workspace, path: str) -> Response:
    """The answer to one metrics request on ``path`` (matched by :data:`METRICS_PATH`)."""
    match = METRICS_PATH.match(path)
    assert match is not None
    query = request.query_params
    version = query.get("api-version")
    if version not in MONITOR_API_VERSIONS:
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid for Microsoft.Insights/metrics. "
            f"The supported versions are '{', '.join(sorted(MONITOR_API_VERSIONS))}'.",
        )
    endpoint, deployment = match.group("endpoint"), match.group("deployment")
    if deployment is None:
        ep = find_endpoint(ws, endpoint)
        endpoint_name, namespace = ep.name, "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    else:
        ep, record = find_deployment(ws, endpoint, deployment)
        endpoint_name, deployment = ep.name, record.name
        namespace = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
    names = [n.strip() for n in (query.get("metricnames") or "RequestsPerMinute").split(",") if n.strip()]
    unknown = [n for n in names if n.lower() not in DEFINITIONS]
    level = [
        n
        for n in names
        if n.lower() in DEFINITIONS
        and not (DEFINITIONS[n.lower()].deployment if deployment else DEFINITIONS[n.lower()].endpoint)
    ]
    if unknown or level:
        valid = [d.name for d in DEFINITIONS.values() if (d.deployment if deployment else d.endpoint)]
        raise bad_request(
            f"Failed to find metric configuration for provider: Microsoft.MachineLearningServices, "
            f"resource type: {namespace.split('/', 1)[1]}, metric: {', '.join(unknown + level)}. "
            f"Valid metrics: {', '.join(valid)}",
            code="BadRequest",
        )
    now = datetime.now(timezone.utc)
    start, end = _timespan(query.get("timespan"), now)
    if start < now - timedelta(minutes=RETENTION_MINUTES):
        start = now - timedelta(minutes=RETENTION_MINUTES - 1)  # what is kept
    text = query.get("interval") or "PT1M"
    interval = None if text.upper() == "FULL" else _duration(text, "interval")
    if interval is not None and interval < timedelta(minutes=1):
        raise bad_request("'interval' must be FULL or at least PT1M (the metrics' time grain).")
    aggregations = [a.strip() for a in (query.get("aggregation") or "").split(",") if a.strip()]
    filters = parse_filter(query.get("$filter"))
    if filters is None:
        raise bad_request(
            f"Invalid $filter '{query.get('$filter')}': use clauses such as deployment eq 'blue' "
            "joined by 'and' (a value of '*' splits the series by that dimension)."
        )
    value = ws.metrics.query(endpoint_name, deployment, names, start, end, interval, aggregations, filters)
    resource = match.group("resource")
    for item in value:
        item["id"] = f"{resource}/providers/Microsoft.Insights/metrics/{item['name']['value']}"
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if interval is None else "%Y-%m-%dT%H:%M:%SZ"
    return json_response(
        {
            "cost": 0,
            "timespan": f"{start.strftime(fmt)}/{end.strftime(fmt)}",
            "interval": _interval_text(interval),
            "namespace": namespace,
            "resourceregion": "local",
            "value": value,
        }
    )
