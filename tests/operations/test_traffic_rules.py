"""The one traffic module (splitter, formatter, wait), results that render themselves, and user
mistakes raised as our errors."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import jupyter_mlep.operations as ops
from jupyter_mlep import OperationTimeoutError, SpecValidationError, UsageError
from jupyter_mlep.operations import _results
from jupyter_mlep.rendering import STATUS_MIME, Result
from jupyter_mlep.rest import RestClient, iter_files

PACKAGE = Path(ops.__file__).parents[1]


def test_one_splitter_with_its_variants() -> None:
    # the others share the rest in proportion to what they hold
    assert ops.split_traffic({"a": 60, "b": 30, "c": 10}, "a", 20) == {"a": 20, "b": 60, "c": 20}
    # exactly one other deployment takes the rest (deploy --traffic)
    assert ops.split_traffic({"blue": 100, "green": 0}, "green", 30, rest_to="one") == {
        "blue": 70,
        "green": 30,
    }
    with pytest.raises(SpecValidationError, match="exactly one other deployment"):
        ops.split_traffic({"a": 50, "b": 50}, "c", 10, rest_to="one")
    # locks hold; without clamp a share the locks leave no room for is refused
    assert ops.split_traffic({"a": 50, "b": 30, "c": 20}, "a", 10, locked={"c"}) == {
        "a": 10,
        "b": 70,
        "c": 20,
    }
    with pytest.raises(SpecValidationError, match="locked deployments hold 20%"):
        ops.split_traffic({"a": 50, "b": 30, "c": 20}, "a", 95, locked={"c"})
    with pytest.raises(SpecValidationError, match="a share is 0 to 100%"):
        ops.split_traffic({"a": 100}, "b", 101)
    # a slider's move is clamped instead
    assert ops.split_traffic({"a": 50, "b": 30, "c": 20}, "a", 95, locked={"c"}, clamp=True) == {
        "a": 80,
        "b": 0,
        "c": 20,
    }
    # 0% while nobody takes live traffic keeps the split at 0
    assert ops.split_traffic({"blue": 0}, "green", 0) == {"blue": 0, "green": 0}


def test_one_formatter() -> None:
    assert ops.format_split({"green": 30, "blue": 70}) == "blue=70%, green=30%"
    assert ops.format_split({"green": 0, "blue": 100}) == "blue=100%, green=0%"
    assert ops.format_split({"green": 0, "blue": 100}, zeros=False) == "blue=100%"
    assert ops.format_split(None) == ops.format_split({}) == "none"


def test_no_other_module_formats_or_splits_traffic() -> None:
    """The splitter, the wait and the formatter have one owner: no second copy anywhere."""
    owners = {PACKAGE / "operations" / "_traffic.py"}
    for path in PACKAGE.rglob("*.py"):
        if path in owners:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert not defined & {
            "traffic_with",
            "split_with",
            "move",
            "format_split",
            "split_text",
            "distribute",
        }, path
        assert "_until_reported" not in defined, path
    assert not (PACKAGE / "operations" / "_render.py").exists()
    assert not (PACKAGE / "widgets" / "_rebalance.py").exists()


def test_every_result_renders_itself() -> None:
    results = [
        obj
        for _name, obj in inspect.getmembers(_results, inspect.isclass)
        if obj.__module__ == _results.__name__ and obj is not _results.RolloutStep
    ]
    assert len(results) >= 8
    kinds = set()
    for cls in results:
        assert issubclass(cls, Result), cls
        assert cls.kind, cls
        kinds.add(cls.kind)
    assert kinds >= {"endpoint", "endpoints", "traffic", "logs", "keys", "invoke", "deploy", "rollout"}


def test_result_outputs() -> None:
    traffic = ops.TrafficResult("ep", {"blue": 90, "green": 10}, {"red": 5})
    assert traffic.text().splitlines()[0] == "Traffic of ep"
    assert traffic.status_payload() == {
        "kind": "traffic",
        "endpoint": "ep",
        "traffic": {"blue": 90, "green": 10},
        "mirror_traffic": {"red": 5},
    }
    bundle = traffic._repr_mimebundle_()
    assert bundle["text/plain"] == repr(traffic) and bundle["text/html"].startswith(
        "<div><b>Traffic of ep</b>"
    )
    assert bundle[STATUS_MIME] == traffic.status_payload()
    answer = ops.InvokeResult("ep", 200, {"a": 1}, "blue", 0.0123)
    assert answer.status == 200  # the HTTP status stays an attribute
    assert answer._repr_mimebundle_()[STATUS_MIME] == {
        "kind": "invoke",
        "status": 200,
        "deployment": "blue",
        "elapsed": 0.0123,
        "body": {"a": 1},
    }
    assert repr(answer) == '200 from blue in 12 ms: {"a": 1}'
    logs = ops.LogsResult("ep", "blue", "inference-server", "")
    assert repr(logs) == "(the inference-server log of blue is empty)" and logs.html().startswith("<pre>")


def test_the_wait_raises_on_timeout(client: RestClient) -> None:
    ops.create_endpoint(client, "traffic-wait-1")
    try:
        with pytest.raises(OperationTimeoutError, match="expected blue=100%"):
            ops.wait_for_traffic(client, "traffic-wait-1", {"blue": 100}, timeout=0.2, interval=0.05)
    finally:
        ops.delete_endpoint(client, "traffic-wait-1")


def test_user_mistakes_raise_our_errors(client: RestClient, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="'tertiary' key"):
        ops.regenerate_key(client, "anything", "tertiary")
    with pytest.raises(SpecValidationError, match="instance_count must be a whole number of at least 1"):
        ops.scale_deployment(client, "anything", "blue", 0)
    with pytest.raises(UsageError, match="no 'stdout' log"):
        ops.get_logs(client, "anything", "blue", container="stdout")
    with pytest.raises(UsageError, match="no 'stdout' log"):
        ops.LogFollower(client, "anything", "blue", container="stdout")
    with pytest.raises(SpecValidationError, match="has no name"):
        ops.create_or_update_deployment(client, "anything", {"properties": {}})
    with pytest.raises(UsageError, match="No such file or folder"):
        iter_files(tmp_path / "missing")


def test_split_errors_name_the_endpoint_and_a_split_that_works() -> None:
    with pytest.raises(SpecValidationError) as caught:
        ops.split_traffic({"a": 60, "b": 40}, "c", 10, rest_to="one", endpoint="my-ep")
    assert caught.value.hint == "Set the whole split instead, e.g. %endpoint traffic my-ep a=54 b=36 c=10"
    with pytest.raises(SpecValidationError) as caught:
        ops.split_traffic({"a": 0, "c": 0}, "c", 10, endpoint="my-ep")
    assert "%endpoint traffic my-ep DEPLOYMENT=100" in str(caught.value.hint)
