"""MLflow's filter grammar as the tracking server parses it (no server needed)."""

from __future__ import annotations

import pytest

from jupyter_mlep.workspace.tracking._api import RUN_ATTRIBUTES
from jupyter_mlep.workspace.tracking._entities import TrackingError
from jupyter_mlep.workspace.tracking._search import Clause, matches, page, parse_filter, parse_order


def parse(text: str) -> list[Clause]:
    return parse_filter(text, RUN_ATTRIBUTES)


def test_identifiers_quoting_and_aliases() -> None:
    assert parse("metrics.acc > 0.5") == [Clause("metric", "acc", ">", 0.5)]
    assert parse("metric.`val loss` <= -1e-3") == [Clause("metric", "val loss", "<=", -0.001)]
    assert parse("tags.\"mlflow.runName\" = 'a b'") == [Clause("tag", "mlflow.runName", "=", "a b")]
    assert parse("tags.mlflow.source.type = 'JOB'") == [Clause("tag", "mlflow.source.type", "=", "JOB")]
    assert parse("params.lr = '0.1' and param.x != 'y'") == [
        Clause("param", "lr", "=", "0.1"),
        Clause("param", "x", "!=", "y"),
    ]
    assert parse("attributes.created >= 5") == [Clause("attribute", "start_time", ">=", 5.0)]
    assert parse("run_name LIKE 'a%'") == [Clause("attribute", "run_name", "LIKE", "a%")]
    assert parse("tags.note = 'it''s'") == [Clause("tag", "note", "=", "it's")]
    assert parse("attributes.status NOT IN ('FAILED','KILLED')") == [
        Clause("attribute", "status", "NOT IN", ["FAILED", "KILLED"])
    ]
    assert parse("params.p IS NOT NULL") == [Clause("param", "p", "IS NOT NULL", None)]
    assert parse("") == [] and parse("   ") == []


@pytest.mark.parametrize(
    "text",
    [
        "metrics.acc > 'high'",
        "params.lr > 1",
        "metrics.acc = 1 OR metrics.acc = 2",
        "foo.bar = 'x'",
        "attributes.nope = 'x'",
        "metrics.acc",
        "metrics.acc IN ('1')",
        "metrics.acc IS NULL",
        "tags.t = 'unterminated",
        "attributes.status IN ('A', 'B'",
    ],
)
def test_bad_filters_are_invalid_parameter_values(text: str) -> None:
    with pytest.raises(TrackingError) as exc:
        parse(text)
    assert exc.value.code == "INVALID_PARAMETER_VALUE" and exc.value.status == 400


def test_like_is_case_sensitive_ilike_is_not_and_underscore_is_one_character() -> None:
    def lookup(item: str, entity: str, key: str) -> str:
        return item

    assert matches("Model_A", parse("tags.t LIKE 'Model%'"), lookup)
    assert not matches("model_a", parse("tags.t LIKE 'Model%'"), lookup)
    assert matches("model_a", parse("tags.t ILIKE 'MODEL_A'"), lookup)
    assert matches("abc", parse("tags.t LIKE 'a_c'"), lookup) and not matches(
        "abbc", parse("tags.t LIKE 'a_c'"), lookup
    )
    assert matches("a.c", parse("tags.t LIKE 'a.c'"), lookup) and not matches(
        "abc", parse("tags.t LIKE 'a.c'"), lookup
    )


def test_order_by_and_pages() -> None:
    orders = parse_order(["metrics.acc DESC", "params.`a b`", "attributes.start_time asc"], RUN_ATTRIBUTES)
    assert [(o.entity, o.key, o.ascending) for o in orders] == [
        ("metric", "acc", False),
        ("param", "a b", True),
        ("attribute", "start_time", True),
    ]
    items = list(range(7))
    first, token = page(items, 3, None)
    second, token2 = page(items, 3, token)
    third, token3 = page(items, 3, token2)
    assert (first, second, third, token3) == ([0, 1, 2], [3, 4, 5], [6], None)
    with pytest.raises(TrackingError):
        page(items, 3, "not-a-token")
