"""A sweep's search space and its sampling algorithms, with Azure ML's semantics.

The search space arrives in the REST form the SDK writes (``{"lr": ["loguniform", [-6, -1]],
"n": ["choice", [[16, 32, 64]]]}``). :func:`parse_space` checks it (400 on a mistake) and
:func:`make_sampler` gives the sampler of the sweep's ``samplingAlgorithm``; trial ``i`` gets
``sampler.parameters(i)``.

The ten expressions, as Azure ML defines them:

* ``choice(values)``: one of the values, each equally likely; a value may be a mapping whose
  values are further expressions (a conditional space): the chosen mapping's entries become
  parameters of the trial, sampled in turn;
* ``randint(upper)``: an integer in ``[0, upper)`` (upper bound excluded);
* ``uniform(min, max)``; ``quniform(min, max, q)`` = ``round(uniform(min, max) / q) * q``;
* ``loguniform(min, max)`` = ``exp(uniform(min, max))``: the bounds are exponents (natural log);
  ``qloguniform(min, max, q)`` = ``round(exp(uniform(min, max)) / q) * q``;
* ``normal(mu, sigma)``; ``qnormal(mu, sigma, q)`` = ``round(normal(mu, sigma) / q) * q``;
* ``lognormal(mu, sigma)`` = ``exp(normal(mu, sigma))``; ``qlognormal`` its rounding.

Sampling algorithms:

* ``Random``: each trial's values from a generator seeded with ``(seed, trial index)``, so a seed
  reproduces every trial exactly, in any order and after a restart; ``rule: Sobol`` takes the
  unit point of the trial from a scrambled Sobol sequence (``scipy.stats.qmc``, seeded) and maps
  each dimension through the expression's inverse distribution function (nested choices below
  a chosen mapping are drawn at random from the trial's seeded generator);
* ``Grid``: ``choice`` only (nested choices too); every combination exactly once, in a fixed
  order; the sweep ends when the grid is done;
* ``Bayesian``: ``choice``, ``uniform`` and ``quniform`` only, as Azure restricts it; values come
  from Optuna's TPE sampler (the optional dependency ``jupyter-mlep[sweep]``), told each trial's
  result as it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from .arm import bad_request

__all__ = [
    "Distribution",
    "Sampler",
    "check_sampling",
    "grid_size",
    "make_sampler",
    "parse_space",
    "sample_value",
    "substitute",
]

_ARITY = {
    "choice": 1,
    "randint": 1,
    "uniform": 2,
    "loguniform": 2,
    "quniform": 3,
    "qloguniform": 3,
    "normal": 2,
    "lognormal": 2,
    "qnormal": 3,
    "qlognormal": 3,
}
_BAYESIAN = ("choice", "uniform", "quniform")


@dataclass(frozen=True)
class Distribution:
    """One parsed expression: its kind and arguments; ``values`` for a choice (mappings in it hold
    parsed expressions)."""

    kind: str
    args: tuple[float, ...] = ()
    values: tuple[Any, ...] = ()

    def describe(self) -> str:
        """The expression as written, e.g. ``uniform(0.1, 1)``."""
        inner = self.values if self.kind == "choice" else self.args
        return f"{self.kind}({', '.join(repr(v) if isinstance(v, str) else str(v) for v in inner)})"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse(name: str, value: Any, where: str) -> Distribution:
    target = f"properties.searchSpace.{where}"
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], list)):
        raise bad_request(
            f"searchSpace.{where} is {value!r}, not an expression: write it as "
            '["uniform", [min, max]], ["choice", [[v1, v2]]], ["randint", [upper]], ….',
            target=target,
        )
    kind, args = str(value[0]).lower(), value[1]
    if kind not in _ARITY:
        raise bad_request(
            f"searchSpace.{where} uses {value[0]!r}, which is not an expression. Allowed: {', '.join(_ARITY)}.",
            target=target,
        )
    if kind == "choice":
        values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
        if not values:
            raise bad_request(f"searchSpace.{where}: choice needs at least one value.", target=target)
        parsed: list[Any] = []
        for index, item in enumerate(values):
            if isinstance(item, dict):
                parsed.append(
                    {
                        str(key): _parse(str(key), inner, f"{where}[{index}].{key}")
                        if _is_expression(inner)
                        else inner
                        for key, inner in item.items()
                    }
                )
            else:
                parsed.append(item)
        return Distribution("choice", values=tuple(parsed))
    if len(args) != _ARITY[kind] or not all(_number(a) for a in args):
        raise bad_request(
            f"searchSpace.{where}: {kind} takes {_ARITY[kind]} number(s), got {args!r}.", target=target
        )
    numbers = tuple(float(a) for a in args)
    if kind == "randint":
        if not float(numbers[0]).is_integer() or numbers[0] < 1:
            raise bad_request(
                f"searchSpace.{where}: randint(upper) needs a whole upper bound of at least 1, got {args[0]!r}.",
                target=target,
            )
    elif kind in ("uniform", "loguniform", "quniform", "qloguniform"):
        if numbers[0] > numbers[1]:
            raise bad_request(
                f"searchSpace.{where}: {kind}(min, max) has min {args[0]} above max {args[1]}.", target=target
            )
    elif numbers[1] < 0:
        raise bad_request(f"searchSpace.{where}: {kind} has a negative sigma ({args[1]}).", target=target)
    if kind.startswith("q") and numbers[-1] <= 0:
        raise bad_request(f"searchSpace.{where}: q must be positive, got {args[-1]!r}.", target=target)
    return Distribution(kind, numbers)


def _is_expression(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and str(value[0]).lower() in _ARITY


def parse_space(space: Any) -> dict[str, Distribution]:
    """The parsed REST ``searchSpace`` (400 on a mistake)."""
    if not isinstance(space, dict) or not space:
        raise bad_request(
            "properties.searchSpace must name at least one parameter.", target="properties.searchSpace"
        )
    return {str(name): _parse(str(name), value, str(name)) for name, value in space.items()}


# -- drawing one value ----------------------------------------------------------------------------------
def _round(value: float, q: float) -> float | int:
    result = round(value / q) * q
    return int(result) if float(q).is_integer() else result


def _from_unit(dist: Distribution, u: float) -> Any:
    """The value of ``dist`` at unit point ``u`` (inverse distribution function)."""
    u = min(max(u, 1e-12), 1 - 1e-12)
    kind, a = dist.kind, dist.args
    if kind == "choice":
        return dist.values[min(int(u * len(dist.values)), len(dist.values) - 1)]
    if kind == "randint":
        return min(int(u * a[0]), int(a[0]) - 1)
    if kind in ("uniform", "quniform", "loguniform", "qloguniform"):
        x = a[0] + u * (a[1] - a[0])
    else:
        x = NormalDist(a[0], a[1]).inv_cdf(u) if a[1] > 0 else a[0]
    if kind in ("loguniform", "qloguniform", "lognormal", "qlognormal"):
        x = math.exp(x)
    return _round(x, a[2]) if kind.startswith("q") else x


def sample_value(dist: Distribution, rng: random.Random) -> Any:
    """One draw of ``dist`` (a chosen mapping is returned as it is: see :func:`_expand`)."""
    kind, a = dist.kind, dist.args
    if kind == "choice":
        return dist.values[rng.randrange(len(dist.values))]
    if kind == "randint":
        return rng.randrange(int(a[0]))
    if kind in ("uniform", "quniform"):
        x = rng.uniform(a[0], a[1])
    elif kind in ("loguniform", "qloguniform"):
        x = math.exp(rng.uniform(a[0], a[1]))
    elif kind in ("normal", "qnormal"):
        x = rng.gauss(a[0], a[1])
    else:
        x = math.exp(rng.gauss(a[0], a[1]))
    return _round(x, a[2]) if kind.startswith("q") else x


def _expand(name: str, value: Any, rng: random.Random, out: dict[str, Any]) -> None:
    """Put ``name = value`` in ``out``; a chosen mapping adds its entries (expressions drawn)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            drawn = sample_value(inner, rng) if isinstance(inner, Distribution) else inner
            _expand(key, drawn, rng, out)
    else:
        out[name] = value


# -- samplers --------------------------------------------------------------------------------------------
class Sampler:
    """Gives the parameters of trial ``index``; None when the space is exhausted (grid)."""

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.space = dict(space)

    def parameters(self, index: int) -> dict[str, Any] | None:
        raise NotImplementedError

    def tell(self, index: int, parameters: Mapping[str, Any], value: float | None) -> None:
        """The result of a trial (its objective value, None when it logged none)."""

    def size(self) -> int | None:
        """How many trials the space holds (None: unbounded)."""
        return None


def _trial_rng(seed: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class RandomSampler(Sampler):
    """Independent draws, reproducible from ``(seed, index)``."""

    def __init__(self, space: Mapping[str, Distribution], seed: int) -> None:
        super().__init__(space)
        self.seed = seed

    def parameters(self, index: int) -> dict[str, Any] | None:
        rng = _trial_rng(self.seed, index)
        out: dict[str, Any] = {}
        for name, dist in self.space.items():
            _expand(name, sample_value(dist, rng), rng, out)
        return out


class SobolSampler(Sampler):
    """Scrambled Sobol points (seeded) through each expression's inverse distribution function."""

    def __init__(self, space: Mapping[str, Distribution], seed: int) -> None:
        super().__init__(space)
        self.seed = seed
        try:
            from scipy.stats import qmc
        except ImportError:
            raise bad_request(
                "Random sampling with rule Sobol needs scipy on the workspace's machine, which is not "
                "installed. Install jupyter-mlep[sweep] (or scipy), or use rule Random.",
                target="properties.samplingAlgorithm.rule",
            ) from None
        self._qmc = qmc

    def parameters(self, index: int) -> dict[str, Any] | None:
        engine = self._qmc.Sobol(d=len(self.space), scramble=True, seed=self.seed)
        if index:
            engine.fast_forward(index)
        point = [float(u) for u in engine.random(1)[0]]
        rng = _trial_rng(self.seed, index)
        out: dict[str, Any] = {}
        for u, (name, dist) in zip(point, self.space.items(), strict=True):
            _expand(name, _from_unit(dist, u), rng, out)
        return out


def _grid_points(name: str, dist: Distribution) -> Iterator[dict[str, Any]]:
    for value in dist.values:
        if not isinstance(value, dict):
            yield {name: value}
            continue
        fixed = {k: v for k, v in value.items() if not isinstance(v, Distribution)}
        nested = [(k, v) for k, v in value.items() if isinstance(v, Distribution)]
        for combo in itertools.product(*(list(_grid_points(k, v)) for k, v in nested)):
            point = dict(fixed)
            for part in combo:
                point.update(part)
            yield point


class GridSampler(Sampler):
    """Every combination of the choices, once, in a fixed order."""

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        super().__init__(space)
        for name, dist in space.items():
            _grid_only(name, dist)
        self.points = [
            {k: v for part in combo for k, v in part.items()}
            for combo in itertools.product(*(list(_grid_points(n, d)) for n, d in space.items()))
        ]

    def parameters(self, index: int) -> dict[str, Any] | None:
        return dict(self.points[index]) if index < len(self.points) else None

    def size(self) -> int | None:
        return len(self.points)


def _grid_only(name: str, dist: Distribution) -> None:
    if dist.kind != "choice":
        raise bad_request(
            f"Grid sampling takes choice parameters only, but '{name}' is {dist.describe()}. Use random "
            "(or bayesian) sampling, or list the values with choice(...).",
            target=f"properties.searchSpace.{name}",
        )
    for value in dist.values:
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, Distribution):
                    _grid_only(f"{name}.{key}", inner)


def grid_size(space: Mapping[str, Distribution]) -> int:
    """How many trials a grid over ``space`` holds."""
    return len(GridSampler(space).points)


class BayesianSampler(Sampler):
    """Optuna's TPE sampler through its ask-and-tell interface."""

    def __init__(self, space: Mapping[str, Distribution], seed: int, goal: str) -> None:
        super().__init__(space)
        for name, dist in space.items():
            if dist.kind not in _BAYESIAN or any(isinstance(v, dict) for v in dist.values):
                raise bad_request(
                    f"Bayesian sampling takes choice (of plain values), uniform and quniform parameters "
                    f"only, as Azure ML does; '{name}' is {dist.describe()}. Use random sampling for it.",
                    target=f"properties.searchSpace.{name}",
                )
        try:
            import optuna
        except ImportError:
            raise bad_request(
                "Bayesian sampling needs Optuna on the workspace's machine, which is not installed. "
                "Install it with pip install 'jupyter-mlep[sweep]', then submit the sweep again.",
                target="properties.samplingAlgorithm.samplingAlgorithmType",
            ) from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._study = optuna.create_study(
            direction="maximize" if goal.lower() == "maximize" else "minimize",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
        )
        self._asked: dict[int, Any] = {}
        self._distributions: dict[str, Any] = {}
        for name, dist in space.items():
            if dist.kind == "choice":
                self._distributions[name] = optuna.distributions.CategoricalDistribution(list(dist.values))
            else:
                self._distributions[name] = optuna.distributions.FloatDistribution(dist.args[0], dist.args[1])

    def parameters(self, index: int) -> dict[str, Any] | None:
        trial = self._study.ask(self._distributions)
        self._asked[index] = trial
        out = dict(trial.params)
        for name, dist in self.space.items():
            if dist.kind == "quniform":
                out[name] = _round(float(out[name]), dist.args[2])
        return out

    def tell(self, index: int, parameters: Mapping[str, Any], value: float | None) -> None:
        state = self._optuna.trial.TrialState
        trial = self._asked.pop(index, None)
        if trial is not None:
            if value is None or math.isnan(value):
                self._study.tell(trial, state=state.FAIL)
            else:
                self._study.tell(trial, value)
            return
        # a trial of an earlier life of the sweep (after a restart): added as it was
        params = {k: v for k, v in parameters.items() if k in self._distributions}
        if len(params) != len(self._distributions):
            return
        with contextlib.suppress(ValueError, TypeError):
            self._study.add_trial(
                self._optuna.trial.create_trial(
                    params=params,
                    distributions=self._distributions,
                    value=None if value is None else value,
                    state=state.FAIL if value is None else state.COMPLETE,
                )
            )


def make_sampler(algorithm: Mapping[str, Any], space: Mapping[str, Distribution], goal: str) -> Sampler:
    """The sampler of a REST ``samplingAlgorithm`` (400 when the space does not suit it)."""
    kind = str(algorithm.get("samplingAlgorithmType") or "Random").lower()
    seed_value = algorithm.get("seed")
    seed = int(seed_value) if isinstance(seed_value, int) else 0
    if kind == "grid":
        return GridSampler(space)
    if kind == "bayesian":
        return BayesianSampler(space, seed, goal)
    if str(algorithm.get("rule") or "Random").lower() == "sobol":
        return SobolSampler(space, seed)
    return RandomSampler(space, seed)


def check_sampling(algorithm: dict[str, Any], space: Mapping[str, Distribution], goal: str) -> None:
    """Refuse (400) a sampling algorithm the space does not suit; a Random or Bayesian algorithm
    without a seed gets one, so the sweep is reproducible after a restart."""
    if algorithm.get("seed") is None and str(algorithm.get("samplingAlgorithmType")).lower() != "grid":
        algorithm["seed"] = random.SystemRandom().randrange(2**31)
    make_sampler(algorithm, space, goal)


def substitute(
    command: str, parameters: Mapping[str, Any], replace: Callable[[str], str] | None = None
) -> str:
    """``command`` with ``${{search_space.<name>}}`` bound to the trial's values."""
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters:
            return match.group(0)
        text = _text(parameters[name])
        return replace(text) if replace else text

    return re.sub(r"\$\{\{\s*search_space\.([A-Za-z0-9_.-]+)\s*\}\}", value, command)


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)
