"""MLflow's search grammar: ``filter`` strings, ``order_by`` clauses and page tokens.

A filter is comparisons joined by ``AND`` (case-insensitive), each ``<entity>.<key> <op> <value>``:

* entities ``metrics``/``metric``, ``params``/``param``/``parameters``, ``tags``/``tag``,
  ``attributes``/``attribute``/``attr``/``run`` (a bare name is an attribute);
* keys plain, or quoted with backticks or double quotes when they hold spaces or dots;
* metrics and numeric attributes (``start_time``, ``end_time``, ``created``; for experiments
  ``creation_time``, ``last_update_time``) compare numbers with ``= != < <= > >=``;
* params, tags and string attributes compare single-quoted strings with ``= !=``, ``LIKE``,
  ``ILIKE`` (``%`` and ``_``), params and tags also ``IS NULL``/``IS NOT NULL``, string
  attributes also ``IN``/``NOT IN`` a parenthesised list.

A run (or experiment) that lacks the key does not match, except for ``IS NULL``.
``order_by`` clauses are ``<entity>.<key> [ASC|DESC]``; NaN values sort after the others, and the
items lacking the key last.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ._entities import invalid

__all__ = ["Clause", "Order", "matches", "page", "page_body", "parse_filter", "parse_order", "sort"]

T = TypeVar("T")
Lookup = Callable[[T, str, str], Any]
"""Gives an item's value for (entity, key), or None when it has none."""

_ENTITIES = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_ATTRIBUTE_ALIASES = {"created": "start_time", "run name": "run_name", "run_uuid": "run_id"}
NUMERIC_ATTRIBUTES = frozenset(
    {
        "start_time",
        "end_time",
        "creation_time",
        "last_update_time",
        "creation_timestamp",
        "last_updated_timestamp",
    }
)
_NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*')
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),])
      | (?P<ident>(?:[A-Za-z_][\w]*|`[^`]+`|"[^"]+")(?:\.(?:[A-Za-z_][\w:/\-.]*|`[^`]+`|"[^"]+"))?)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Clause:
    """One comparison: entity (metric, param, tag, attribute), key, operator, value."""

    entity: str
    key: str
    op: str
    value: Any


@dataclass(frozen=True)
class Order:
    """One ``order_by`` clause."""

    entity: str
    key: str
    ascending: bool


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] and name[0] in '`"' else name


def _identifier(text: str, attributes: frozenset[str]) -> tuple[str, str]:
    head, dot, rest = text.partition(".")
    if head.startswith(("`", '"')) or not dot:
        key = _unquote(text)
        entity = "attribute"
    else:
        entity = _ENTITIES.get(head.lower(), "")
        key = _unquote(rest)
        if not entity:
            raise invalid(
                f"Invalid entity type '{head}' in '{text}'. Valid values are metrics, params, tags and "
                "attributes."
            )
    if entity == "attribute":
        key = _ATTRIBUTE_ALIASES.get(key.lower(), key)
        if key not in attributes:
            raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are {sorted(attributes)}.")
    return entity, key


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise invalid(f"Invalid filter '{text}': could not parse at '{text[position : position + 20]}'.")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _string(token: tuple[str, str], text: str) -> str:
    kind, value = token
    if kind != "string":
        raise invalid(f"Invalid filter '{text}': expected a single-quoted string, got {value}.")
    return value[1:-1].replace("''", "'").replace("\\'", "'")


def parse_filter(text: str | None, attributes: frozenset[str]) -> list[Clause]:
    """The comparisons of a filter string (empty for no filter)."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0
    while True:
        if i >= len(tokens) or tokens[i][0] != "ident":
            raise invalid(f"Invalid filter '{text}': expected '<entity>.<key> <comparator> <value>'.")
        entity, key = _identifier(tokens[i][1], attributes)
        i += 1
        words = []
        while (
            i < len(tokens)
            and tokens[i][0] == "ident"
            and tokens[i][1].upper() in ("NOT", "IN", "IS", "NULL", "LIKE", "ILIKE")
        ):
            words.append(tokens[i][1].upper())
            i += 1
        if words:
            op = " ".join(words)
        elif i < len(tokens) and tokens[i][0] == "op":
            op = {"==": "=", "<>": "!="}.get(tokens[i][1], tokens[i][1])
            i += 1
        else:
            raise invalid(f"Invalid filter '{text}': expected a comparator after '{key}'.")
        value: Any = None
        numeric = entity == "metric" or (entity == "attribute" and key in NUMERIC_ATTRIBUTES)
        if op in ("IS NULL", "IS NOT NULL"):
            if entity not in ("param", "tag"):
                raise invalid(f"Invalid comparator '{op}' for {entity} '{key}'.")
        elif op in ("IN", "NOT IN"):
            if entity != "attribute" or numeric:
                raise invalid(
                    f"Invalid comparator '{op}' for {entity} '{key}': only string attributes take IN."
                )
            if i >= len(tokens) or tokens[i] != ("punct", "("):
                raise invalid(f"Invalid filter '{text}': {op} needs a parenthesised list of strings.")
            i += 1
            values = []
            while True:
                values.append(_string(tokens[i] if i < len(tokens) else ("", "end"), text))
                i += 1
                if i < len(tokens) and tokens[i] == ("punct", ","):
                    i += 1
                    continue
                if i < len(tokens) and tokens[i] == ("punct", ")"):
                    i += 1
                    break
                raise invalid(f"Invalid filter '{text}': unterminated list after {op}.")
            value = values
        elif numeric:
            if op not in _NUMERIC_OPS:
                raise invalid(
                    f"Invalid comparator '{op}' for {entity} '{key}'; use one of {list(_NUMERIC_OPS)}."
                )
            if i >= len(tokens) or tokens[i][0] != "number":
                raise invalid(f"Invalid filter '{text}': {entity} '{key}' compares to a number.")
            value = float(tokens[i][1])
            i += 1
        else:
            if op not in _STRING_OPS:
                raise invalid(
                    f"Invalid comparator '{op}' for {entity} '{key}'; use one of {list(_STRING_OPS)}."
                )
            value = _string(tokens[i] if i < len(tokens) else ("", "end"), text)
            i += 1
        clauses.append(Clause(entity, key, op, value))
        if i == len(tokens):
            return clauses
        if tokens[i][0] == "ident" and tokens[i][1].upper() == "AND":
            i += 1
            continue
        raise invalid(f"Invalid filter '{text}': comparisons are joined with AND (OR is not supported).")


def _like(pattern: str, value: str, *, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _compare(clause: Clause, found: Any, *, missing_differs: bool = False) -> bool:
    op, wanted = clause.op, clause.value
    if found is None and op == "!=" and missing_differs:
        return True
    if op == "IS NULL":
        return found is None
    if op == "IS NOT NULL":
        return found is not None
    if found is None:
        return False
    if op == "IN":
        return str(found) in wanted
    if op == "NOT IN":
        return str(found) not in wanted
    if op == "LIKE":
        return _like(wanted, str(found), ignore_case=False)
    if op == "ILIKE":
        return _like(wanted, str(found), ignore_case=True)
    found = float(found) if isinstance(wanted, float) else str(found)
    return bool(
        {
            "=": found == wanted,
            "!=": found != wanted,
            "<": found < wanted,
            "<=": found <= wanted,
            ">": found > wanted,
            ">=": found >= wanted,
        }[op]
    )


def matches(item: T, clauses: Sequence[Clause], lookup: Lookup[T], *, missing_differs: bool = False) -> bool:
    """True if ``item`` satisfies every clause (with ``missing_differs``, a lacking key is ``!=`` any
    value, as the model registry's searches have it)."""
    return all(
        _compare(clause, lookup(item, clause.entity, clause.key), missing_differs=missing_differs)
        for clause in clauses
    )


def parse_order(clauses: Sequence[str], attributes: frozenset[str]) -> list[Order]:
    """The ``order_by`` clauses."""
    orders = []
    for text in clauses:
        body = text.strip()
        ascending = True
        match = re.search(r"\s+(ASC|DESC)$", body, re.IGNORECASE)
        if match:
            ascending = match.group(1).upper() == "ASC"
            body = body[: match.start()].strip()
        if not body:
            raise invalid(f"Invalid order_by clause '{text}'.")
        entity, key = _identifier(body, attributes)
        orders.append(Order(entity, key, ascending))
    return orders


def sort(items: list[T], orders: Sequence[Order], lookup: Lookup[T]) -> list[T]:
    """``items`` (already in their default order) sorted by ``orders``; items lacking a key go last."""
    for order in reversed(orders):
        present = [(lookup(item, order.entity, order.key), item) for item in items]
        missing = [item for value, item in present if value is None]
        nans = [item for value, item in present if isinstance(value, float) and math.isnan(value)]
        kept = [
            (v, item) for v, item in present if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        kept.sort(key=lambda pair: pair[0], reverse=not order.ascending)
        items = [item for _, item in kept] + nans + missing
    return items


def page(items: list[T], max_results: int, token: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next one (None at the end)."""
    offset = 0
    if token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(token.encode("ascii")))["offset"])
        except (ValueError, KeyError, TypeError):
            raise invalid(f"Invalid page token '{token}'.") from None
    end = offset + max_results
    following = None
    if end < len(items):
        following = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode("ascii")
    return items[offset:end], following


def page_body(key: str, chosen: list[Any], following: str | None) -> dict[str, Any]:
    """A search answer: the page under ``key``, and ``next_page_token`` when another page follows."""
    body: dict[str, Any] = {key: chosen}
    if following:
        body["next_page_token"] = following
    return body
