"""Early-termination policies of a sweep, as Azure ML defines them; pure functions.

An *interval* is each time a trial logs the primary metric: a trial's k-th logged value is its
value at interval k (k from 1). A policy is applied to a trial at interval k when k is a multiple
of ``evaluationInterval`` and ``k >= delayEvaluation``. ``evaluationInterval: 0`` (the REST
default, and the SDK's for bandit and truncation selection) means 1: every interval is evaluated;
``delayEvaluation: 0`` means from the first interval.

At interval k a trial is compared with every trial of the sweep (running, completed or stopped,
itself included) that has reached interval k, using their values up to interval k:

* ``Bandit``: the reference is the best value any of them logged up to interval k. With
  ``slackFactor`` f the threshold is ``best / (1 + f)`` (maximize) or ``best * (1 + f)``
  (minimize); with ``slackAmount`` a it is ``best - a`` or ``best + a``. The trial stops when its
  best value up to interval k is worse than the threshold. For a negative best (a negative R², a
  log-likelihood) the slack factor keeps its meaning, a distance of ``|best| * f / (1 + f)``
  (maximize) or ``|best| * f`` (minimize) on the worse side: the literal formula would put the
  threshold beyond the best value, stopping the best trial itself.
* ``MedianStopping``: the threshold is the median of the running averages (mean of the values up
  to interval k) of those trials; the trial stops when its best value up to k is worse.
* ``TruncationSelection`` (``truncationPercentage`` p): the trials are ranked by their best value
  up to interval k; the trial stops when it is among the worst ``floor(n * p / 100)`` of the n
  trials, i.e. when at least ``n - floor(n * p / 100)`` trials are strictly better (ties favour
  the trial).

Every stop carries its reason: the policy, the interval, the trial's value and the threshold.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Policy", "Stop", "evaluate", "intervals_to_evaluate", "parse_policy"]


@dataclass(frozen=True)
class Policy:
    """A REST ``earlyTermination`` policy, normalised."""

    kind: str  # bandit | median_stopping | truncation_selection
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    slack_factor: float | None = None
    slack_amount: float | None = None
    truncation_percentage: int = 0

    def applies_at(self, interval: int) -> bool:
        """True when the policy is evaluated at ``interval`` (1-based)."""
        return (
            interval >= 1 and interval % self.evaluation_interval == 0 and interval >= self.delay_evaluation
        )


@dataclass(frozen=True)
class Stop:
    """A decision to stop ``trial`` at ``interval``, with its explanation."""

    trial: str
    interval: int
    value: float
    threshold: float
    reason: str


_KINDS = {
    "bandit": "bandit",
    "medianstopping": "median_stopping",
    "truncationselection": "truncation_selection",
}


def parse_policy(body: Mapping[str, Any] | None) -> Policy | None:
    """The policy of a REST ``earlyTermination`` (None when there is none)."""
    if not body:
        return None
    kind = _KINDS.get(str(body.get("policyType") or "").replace("_", "").lower())
    if kind is None:
        return None
    interval = int(body.get("evaluationInterval") or 0)
    factor, amount = body.get("slackFactor"), body.get("slackAmount")
    return Policy(
        kind=kind,
        evaluation_interval=interval if interval > 0 else 1,
        delay_evaluation=max(int(body.get("delayEvaluation") or 0), 0),
        slack_factor=float(factor) if factor else None,
        slack_amount=float(amount) if amount and not factor else None,
        truncation_percentage=int(body.get("truncationPercentage") or 0),
    )


def _worse(a: float, b: float, maximize: bool) -> bool:
    return a < b if maximize else a > b


def _best(values: Sequence[float], maximize: bool) -> float:
    return max(values) if maximize else min(values)


def intervals_to_evaluate(policy: Policy, logged: int, evaluated: int) -> list[int]:
    """The intervals in ``(evaluated, logged]`` at which ``policy`` applies."""
    return [k for k in range(evaluated + 1, logged + 1) if policy.applies_at(k)]


def _g(value: float) -> str:
    return f"{value:.6g}"


def evaluate(
    policy: Policy,
    goal: str,
    metric: str,
    series: Mapping[str, Sequence[float]],
    trial: str,
    interval: int,
) -> Stop | None:
    """Whether ``policy`` stops ``trial`` at ``interval``, given every trial's logged values of the
    primary metric (``series``: trial -> values in the order logged)."""
    maximize = goal.lower() == "maximize"
    own = [v for v in series.get(trial, ())[:interval] if not math.isnan(v)]
    if len(series.get(trial, ())) < interval or not own:
        return None
    peers = {
        name: [v for v in values[:interval] if not math.isnan(v)]
        for name, values in series.items()
        if len(values) >= interval
    }
    peers = {name: values for name, values in peers.items() if values}
    mine = _best(own, maximize)
    worse_word = "below" if maximize else "above"
    if policy.kind == "bandit":
        best = _best([_best(v, maximize) for v in peers.values()], maximize)
        if policy.slack_factor is not None:
            factor = policy.slack_factor
            # best / (1 + f) (maximize) or best * (1 + f) (minimize) for a positive best; for a
            # negative one the same relative distance on the worse side (the literal formula would
            # put the threshold beyond the best trial itself)
            slack = abs(best) * factor / (1 + factor) if maximize else abs(best) * factor
            threshold = best - slack if maximize else best + slack
            if best >= 0:
                how = (
                    f"the best trial's {_g(best)} {'/' if maximize else '×'} (1 + slack_factor {_g(factor)})"
                )
            else:
                how = f"the best trial's {_g(best)} {'-' if maximize else '+'} {_g(slack)} (slack_factor {_g(factor)})"
        elif policy.slack_amount is not None:
            amount = policy.slack_amount
            threshold = best - amount if maximize else best + amount
            how = f"the best trial's {_g(best)} {'-' if maximize else '+'} slack_amount {_g(amount)}"
        else:
            threshold = best
            how = f"the best trial's {_g(best)} (no slack)"
        if _worse(mine, threshold, maximize):
            return Stop(
                trial,
                interval,
                mine,
                threshold,
                f"Stopped by the bandit policy at interval {interval}: the trial's best {metric} so far "
                f"({_g(mine)}) is {worse_word} {_g(threshold)}, {how}.",
            )
        return None
    if policy.kind == "median_stopping":
        averages = [statistics.fmean(v) for v in peers.values()]
        median = statistics.median(averages)
        if _worse(mine, median, maximize):
            return Stop(
                trial,
                interval,
                mine,
                median,
                f"Stopped by the median stopping policy at interval {interval}: the trial's best {metric} so "
                f"far ({_g(mine)}) is {worse_word} {_g(median)}, the median of the running averages of the "
                f"{len(averages)} trials that reached interval {interval}.",
            )
        return None
    if policy.kind == "truncation_selection":
        bests = {name: _best(v, maximize) for name, v in peers.items()}
        n = len(bests)
        cut = math.floor(n * policy.truncation_percentage / 100)
        if cut < 1:
            return None
        better = sum(1 for name, value in bests.items() if name != trial and _worse(mine, value, maximize))
        if better >= n - cut:
            ranked = sorted(bests.values(), reverse=maximize)
            threshold = ranked[n - cut - 1]  # the worst value that survives
            return Stop(
                trial,
                interval,
                mine,
                threshold,
                f"Stopped by the truncation selection policy at interval {interval}: the trial's best {metric} "
                f"so far ({_g(mine)}) is among the worst {policy.truncation_percentage}% ({cut} of {n} trials "
                f"that reached interval {interval}); {n - cut} trial(s) did better, down to {_g(threshold)}.",
            )
        return None
    return None
