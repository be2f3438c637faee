"""The traffic sliders' rules: the sum stays 100, locks hold, shares are proportional with
largest-remainder rounding (the one splitter, ``operations.split_traffic(..., clamp=True)``), and
mirror traffic within Azure's limits (the one validator, ``specs.validate_traffic``)."""

from __future__ import annotations

import ast
import random
from collections.abc import Collection
from pathlib import Path

import pytest

from jupyter_mlep.operations import _traffic, format_split, split_traffic
from jupyter_mlep.operations._traffic import distribute
from jupyter_mlep.widgets.traffic import mirror_split, normalized, traffic_problem


def move(split: dict[str, int], name: str, value: int, locked: Collection[str] = ()) -> dict[str, int]:
    """A slider's move."""
    return split_traffic(split, name, value, locked=locked, clamp=True)


def mirror_problem(traffic: dict[str, int], deployment: str | None, percent: int) -> str | None:
    """Why mirroring ``percent`` to ``deployment`` cannot be applied with this live split."""
    return traffic_problem(traffic, mirror_split(deployment, percent), list(traffic))


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (30, {"a": 1, "b": 1}, {"a": 15, "b": 15}),
        (10, {"a": 1, "b": 1, "c": 1}, {"a": 4, "b": 3, "c": 3}),  # tie: name order
        (100, {"a": 0, "b": 0, "c": 0}, {"a": 34, "b": 33, "c": 33}),  # all zero: equal share
        (7, {"a": 50, "b": 30, "c": 20}, {"a": 4, "b": 2, "c": 1}),  # 3.5, 2.1, 1.4 -> 4, 2, 1
        (1, {"a": 10, "b": 90}, {"a": 0, "b": 1}),
        (0, {"a": 10, "b": 90}, {"a": 0, "b": 0}),
        (50, {}, {}),
        (100, {"a": 1, "b": 2, "c": 3}, {"a": 17, "b": 33, "c": 50}),  # 16.67, 33.33, 50
        (100, {"x": 1, "y": 1, "z": 1}, {"x": 34, "y": 33, "z": 33}),
        (3, {"a": 0, "b": 5}, {"a": 0, "b": 3}),  # a zero weight stays 0 when others hold traffic
    ],
)
def test_distribute(amount: int, weights: dict[str, int], expected: dict[str, int]) -> None:
    assert distribute(amount, weights) == expected
    assert sum(distribute(amount, weights).values()) == (amount if weights else 0)


def test_move_two_deployments() -> None:
    assert move({"blue": 100, "green": 0}, "green", 30) == {"blue": 70, "green": 30}
    assert move({"blue": 70, "green": 30}, "blue", 100) == {"blue": 100, "green": 0}
    assert move({"blue": 70, "green": 30}, "blue", 0) == {"blue": 0, "green": 100}


def test_move_rebalances_proportionally() -> None:
    # 40 points left for b and c, which hold 30 and 10: 3:1 -> 30 and 10
    assert move({"a": 60, "b": 30, "c": 10}, "a", 60) == {"a": 60, "b": 30, "c": 10}
    assert move({"a": 60, "b": 30, "c": 10}, "a", 20) == {"a": 20, "b": 60, "c": 20}
    # 33 left for 2:1 -> 22 and 11
    assert move({"a": 40, "b": 40, "c": 20}, "a", 67) == {"a": 67, "b": 22, "c": 11}
    # largest remainder: 25 for 1:1:1 -> 9, 8, 8
    assert move({"a": 10, "b": 30, "c": 30, "d": 30}, "a", 75) == {"a": 75, "b": 9, "c": 8, "d": 8}


def test_move_all_zero_others_share_equally() -> None:
    assert move({"a": 100, "b": 0, "c": 0}, "a", 40) == {"a": 40, "b": 30, "c": 30}
    assert move({"a": 100, "b": 0, "c": 0, "d": 0}, "a", 0) == {"a": 0, "b": 34, "c": 33, "d": 33}
    # an endpoint with no traffic yet (all zero): the first move makes it 100
    assert move({"a": 0, "b": 0}, "a", 25) == {"a": 25, "b": 75}


def test_locked_deployments_never_change() -> None:
    split = {"a": 50, "b": 30, "c": 20}
    assert move(split, "a", 10, locked={"c"}) == {"a": 10, "b": 70, "c": 20}
    # a cannot take more than 100 - locked
    assert move(split, "a", 95, locked={"c"}) == {"a": 80, "b": 0, "c": 20}


def test_move_clamped_when_every_other_is_locked() -> None:
    split = {"a": 50, "b": 30, "c": 20}
    assert move(split, "a", 90, locked={"b", "c"}) == split
    assert move(split, "a", 0, locked={"b", "c"}) == split
    assert move({"only": 100}, "only", 40) == {"only": 100}
    assert move({"only": 0}, "only", 40) == {"only": 100}


def test_locked_or_unknown_name_does_not_move() -> None:
    split = {"a": 50, "b": 50}
    assert move(split, "a", 10, locked={"a"}) == split
    assert move(split, "zzz", 10) == split


def test_values_are_clamped_to_percentages() -> None:
    assert move({"a": 50, "b": 50}, "a", 150) == {"a": 100, "b": 0}
    assert move({"a": 50, "b": 50}, "a", -20) == {"a": 0, "b": 100}


def test_random_moves_keep_the_rules() -> None:
    """Property-style: thousands of random moves on random splits with random locks."""
    rng = random.Random(20261122)
    for _ in range(5000):
        names = [f"d{i}" for i in range(rng.randint(1, 6))]
        cuts = sorted(rng.randint(0, 100) for _ in range(len(names) - 1))
        split = {name: b - a for name, a, b in zip(names, [0, *cuts], [*cuts, 100], strict=True)}
        assert sum(split.values()) == 100
        moved = rng.choice(names)
        locked = {name for name in names if rng.random() < 0.3}
        value = rng.randint(-10, 110)
        after = move(split, moved, value, locked)
        assert sum(after.values()) == 100, (split, moved, value, locked, after)
        assert set(after) == set(split)
        assert all(0 <= v <= 100 for v in after.values())
        for name in locked:
            assert after[name] == split[name]
        if moved in locked:
            assert after == split
            continue
        room = 100 - sum(split[n] for n in locked if n != moved)
        free = [n for n in names if n != moved and n not in locked]
        expected = min(max(value, 0), room) if free else room
        assert after[moved] == expected
        # proportional: a free deployment's share is within one point of its exact share
        weights = {n: split[n] for n in free}
        total = sum(weights.values())
        for name in free:
            exact = (room - expected) * (weights[name] / total if total else 1 / len(free))
            assert abs(after[name] - exact) < 1, (split, moved, value, locked, after)
        # moving again to where it is changes nothing
        assert move(after, moved, after[moved], locked) == after or not total


def test_random_moves_from_all_zero() -> None:
    rng = random.Random(7)
    for _ in range(500):
        names = [f"d{i}" for i in range(rng.randint(2, 5))]
        after = move(dict.fromkeys(names, 0), rng.choice(names), rng.randint(0, 100))
        assert sum(after.values()) == 100
        others = sorted(v for n, v in after.items())
        assert others[-1] - others[0] <= 100


def test_mirror_limits() -> None:
    traffic = {"blue": 100, "green": 0}
    assert mirror_problem(traffic, "green", 10) is None
    assert mirror_problem(traffic, "green", 50) is None
    assert "at most 50%" in (mirror_problem(traffic, "green", 51) or "")
    assert "live traffic" in (mirror_problem(traffic, "blue", 10) or "")
    assert "no deployment" in (mirror_problem(traffic, "red", 10) or "")
    assert mirror_problem(traffic, None, 30) is None
    assert mirror_problem(traffic, "blue", 0) is None
    assert mirror_split("green", 20) == {"green": 20}
    assert mirror_split("green", 0) == {}
    assert mirror_split(None, 20) == {}


def test_apply_problem() -> None:
    deployments = ["blue", "green"]
    assert traffic_problem({"blue": 70, "green": 30}, {}, deployments) is None
    assert traffic_problem({"blue": 0, "green": 0}, {}, deployments) is None
    assert traffic_problem({"blue": 100, "green": 0}, {"green": 50}, deployments) is None
    assert "sums to 90%" in (traffic_problem({"blue": 60, "green": 30}, {}, deployments) or "")
    assert "live traffic" in (traffic_problem({"blue": 70, "green": 30}, {"green": 10}, deployments) or "")
    assert "at most 50%" in (traffic_problem({"blue": 100, "green": 0}, {"green": 60}, deployments) or "")
    assert "one deployment" in (
        traffic_problem({"blue": 100, "green": 0, "red": 0}, {"green": 5, "red": 5}, [*deployments, "red"])
        or ""
    )
    assert "red" in (traffic_problem({"blue": 100, "red": 0}, {}, deployments) or "")


def test_format_split() -> None:
    assert format_split({"green": 30, "blue": 70}) == "blue=70%, green=30%"
    assert format_split({}) == "none"
    assert normalized({"blue": 100}, ["green", "blue"]) == {"blue": 100, "green": 0}


def test_rules_do_not_import_ipywidgets() -> None:
    tree = ast.parse(Path(_traffic.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [name for name in imported if "widgets" in name or "IPython" in name]
