"""A sweep's search space and samplers: Azure ML's semantics of the ten expressions (statistical
checks whose failure probability is below 1e-6), conditional spaces, grid completeness, seeded
reproducibility, Sobol, Bayesian through Optuna, and the refusals."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any

import pytest

from jupyter_mlep.workspace.arm import ArmError
from jupyter_mlep.workspace.sweepspace import (
    GridSampler,
    RandomSampler,
    SobolSampler,
    grid_size,
    make_sampler,
    parse_space,
    substitute,
)

N = 20_000
# A mean of N draws lies within 6 standard errors of the true mean with probability > 1 - 2e-9.
Z = 6.0


def draws(expression: list[Any], n: int = N, seed: int = 7) -> list[Any]:
    sampler = RandomSampler(parse_space({"x": expression}), seed)
    out = []
    for index in range(n):
        values = sampler.parameters(index)
        assert values is not None
        out.append(values["x"])
    return out


def near(values: list[float], mean: float, sd: float) -> None:
    tolerance = Z * sd / math.sqrt(len(values))
    assert abs(statistics.fmean(values) - mean) < tolerance, (statistics.fmean(values), mean, tolerance)


def test_uniform_and_quniform() -> None:
    values = draws(["uniform", [2, 6]])
    assert all(2 <= v <= 6 for v in values)
    near(values, 4.0, 4 / math.sqrt(12))
    q = draws(["quniform", [0, 10, 2]])
    assert set(q) <= {0, 2, 4, 6, 8, 10} and all(isinstance(v, int) for v in q)
    counts = Counter(q)  # round(x/2)*2: 0 and 10 have half the weight of the inner values
    assert counts[4] > counts[0] * 1.5 and counts[6] > counts[10] * 1.5


def test_loguniform_bounds_are_exponents() -> None:
    values = draws(["loguniform", [-6, -1]])
    assert all(math.exp(-6) <= v <= math.exp(-1) for v in values)
    near([math.log(v) for v in values], -3.5, 5 / math.sqrt(12))
    q = draws(["qloguniform", [0, 3, 1]])
    assert set(q) <= set(range(1, 21)) and min(q) >= 1 and max(q) <= round(math.exp(3))


def test_randint_excludes_the_upper_bound() -> None:
    values = draws(["randint", [5]])
    assert set(values) == {0, 1, 2, 3, 4}
    for k in range(5):  # each value has p = 0.2; a binomial count within 6 sd
        assert abs(values.count(k) - N / 5) < Z * math.sqrt(N * 0.2 * 0.8)


def test_normal_families() -> None:
    values = draws(["normal", [10, 2]])
    near(values, 10, 2)
    assert abs(statistics.pstdev(values) - 2) < 0.1
    logn = draws(["lognormal", [0, 0.5]])
    assert all(v > 0 for v in logn)
    near([math.log(v) for v in logn], 0, 0.5)
    qn = draws(["qnormal", [10, 3, 5]])
    assert set(qn) <= {v * 5 for v in range(-20, 21)}
    qln = draws(["qlognormal", [1, 0.3, 0.5]])
    assert all(abs(v / 0.5 - round(v / 0.5)) < 1e-9 for v in qln)


def test_choice_is_uniform_over_its_values() -> None:
    values = draws(["choice", [["a", "b", "c", "d"]]])
    for item in "abcd":
        assert abs(values.count(item) - N / 4) < Z * math.sqrt(N * 0.25 * 0.75)


def test_conditional_space() -> None:
    space = {
        "model": [
            "choice",
            [[{"model": "svm", "c": ["uniform", [0.1, 1]]}, {"model": "tree", "depth": ["randint", [4]]}]],
        ]
    }
    sampler = RandomSampler(parse_space(space), 3)
    seen = Counter()
    for index in range(200):
        values = sampler.parameters(index)
        assert values is not None
        seen[values["model"]] += 1
        if values["model"] == "svm":
            assert set(values) == {"model", "c"} and 0.1 <= values["c"] <= 1
        else:
            assert set(values) == {"model", "depth"} and values["depth"] in range(4)
    assert seen["svm"] > 50 and seen["tree"] > 50


def test_a_seed_reproduces_every_trial() -> None:
    space = parse_space({"lr": ["loguniform", [-6, -1]], "n": ["choice", [[16, 32, 64]]]})
    first, second, other = RandomSampler(space, 42), RandomSampler(space, 42), RandomSampler(space, 43)
    a = [first.parameters(i) for i in range(20)]
    assert a == [second.parameters(i) for i in range(20)]
    assert a[::-1] == [second.parameters(i) for i in reversed(range(20))]  # any order, as after a restart
    assert a != [other.parameters(i) for i in range(20)]
    sobol = make_sampler({"samplingAlgorithmType": "Random", "rule": "Sobol", "seed": 5}, space, "Maximize")
    assert isinstance(sobol, SobolSampler)
    points = [sobol.parameters(i) for i in range(8)]
    assert points == [SobolSampler(space, 5).parameters(i) for i in range(8)]
    assert len({p["n"] for p in points if p}) == 3


def test_sobol_covers_the_unit_interval_evenly() -> None:
    sampler = SobolSampler(parse_space({"x": ["uniform", [0, 1]]}), 11)
    values = [sampler.parameters(i)["x"] for i in range(256)]  # type: ignore[index]
    counts = Counter(int(v * 16) for v in values)
    assert all(counts[b] == 16 for b in range(16)), counts  # a low-discrepancy sequence fills every bin


def test_grid_runs_every_combination_once() -> None:
    space = parse_space(
        {
            "a": ["choice", [[1, 2, 3]]],
            "b": ["choice", [["x", {"b": "y", "c": ["choice", [[True, False]]]}]]],
        }
    )
    grid = GridSampler(space)
    points = [grid.parameters(i) for i in range(grid_size(space))]
    assert grid.parameters(grid_size(space)) is None
    assert grid_size(space) == 9
    keys = {tuple(sorted(p.items())) for p in points if p}
    assert len(keys) == 9
    assert {"a": 2, "b": "y", "c": False} in points and {"a": 3, "b": "x"} in points


def test_refusals_name_the_parameter() -> None:
    with pytest.raises(ArmError, match=r"Grid sampling takes choice parameters only, but 'lr'"):
        make_sampler({"samplingAlgorithmType": "Grid"}, parse_space({"lr": ["uniform", [0, 1]]}), "Maximize")
    with pytest.raises(ArmError, match=r"Bayesian sampling .* 'lr' is loguniform"):
        make_sampler(
            {"samplingAlgorithmType": "Bayesian"}, parse_space({"lr": ["loguniform", [-5, 0]]}), "Maximize"
        )
    with pytest.raises(ArmError, match="randint"):
        parse_space({"n": ["randint", [0]]})
    with pytest.raises(ArmError, match="min 3 above max 1"):
        parse_space({"x": ["uniform", [3, 1]]})
    with pytest.raises(ArmError, match="not an expression"):
        parse_space({"x": ["gamma", [1, 2]]})


def test_bayesian_learns_from_results() -> None:
    space = parse_space(
        {"x": ["uniform", [0, 10]], "k": ["choice", [["a", "b"]]], "q": ["quniform", [0, 4, 2]]}
    )
    sampler = make_sampler({"samplingAlgorithmType": "Bayesian", "seed": 1}, space, "Minimize")
    xs = []
    for index in range(30):
        values = sampler.parameters(index)
        assert values is not None and 0 <= values["x"] <= 10 and values["q"] in (0, 2, 4)
        xs.append(values["x"])
        sampler.tell(index, values, (values["x"] - 7) ** 2 + (0 if values["k"] == "b" else 5))
    # after the random start-up trials, TPE concentrates near the optimum x = 7
    assert statistics.median(abs(x - 7) for x in xs[-10:]) < statistics.median(abs(x - 7) for x in xs[:5])


def test_substitute_binds_search_space_expressions() -> None:
    command = "python train.py --lr ${{search_space.lr}} --n ${{ search_space.n }} --data ${{inputs.d}}"
    assert (
        substitute(command, {"lr": 0.01, "n": 32}) == "python train.py --lr 0.01 --n 32 --data ${{inputs.d}}"
    )


def test_a_conditional_space_from_yaml_reaches_the_service_in_the_rest_form() -> None:
    from jupyter_mlep.specs import SearchParameter

    yaml_form = {
        "type": "choice",
        "values": [
            {"model": "svm", "c": {"type": "uniform", "min_value": 0.1, "max_value": 1}},
            {"model": "tree"},
        ],
    }
    rest = SearchParameter.model_validate(yaml_form).to_rest()
    assert rest == ["choice", [[{"model": "svm", "c": ["uniform", [0.1, 1]]}, {"model": "tree"}]]]
    assert SearchParameter.from_rest("m", rest) == yaml_form
    values = RandomSampler(parse_space({"m": rest}), 1).parameters(0)
    assert values is not None and values["model"] in ("svm", "tree")
