"""Early-termination policies on hand-made metric sequences: when each rule applies, what it
compares, and the reason it gives."""

from __future__ import annotations

from jupyter_mlep.workspace.sweeppolicy import Policy, evaluate, intervals_to_evaluate, parse_policy


def test_parse_and_when_a_policy_applies() -> None:
    policy = parse_policy({"policyType": "Bandit", "slackFactor": 0.1, "evaluationInterval": 0})
    assert policy == Policy("bandit", evaluation_interval=1, delay_evaluation=0, slack_factor=0.1)
    assert intervals_to_evaluate(policy, 3, 0) == [1, 2, 3]
    every2 = Policy("bandit", evaluation_interval=2, delay_evaluation=5, slack_amount=0.1)
    # every multiple of evaluation_interval at or after delay_evaluation
    assert [k for k in range(1, 13) if every2.applies_at(k)] == [6, 8, 10, 12]
    assert intervals_to_evaluate(every2, 9, 6) == [8]
    assert parse_policy(None) is None
    assert parse_policy({"policyType": "MedianStopping"}) == Policy("median_stopping")
    truncation = parse_policy({"policyType": "TruncationSelection", "truncationPercentage": 20})
    assert truncation is not None and truncation.truncation_percentage == 20


def test_bandit_slack_factor_maximize() -> None:
    policy = Policy("bandit", slack_factor=0.2)
    series = {"best": [0.5, 0.8, 0.6], "ok": [0.6, 0.67, 0.1], "poor": [0.6, 0.66, 0.65]}
    # at interval 2 the best trial's value is 0.8; the threshold is 0.8 / 1.2 = 0.6667
    assert evaluate(policy, "Maximize", "auc", series, "ok", 2) is None  # 0.67 is within the slack
    stop = evaluate(policy, "maximize", "auc", series, "poor", 2)
    assert stop is not None and stop.interval == 2 and stop.value == 0.66
    assert abs(stop.threshold - 0.8 / 1.2) < 1e-12
    assert stop.reason == (
        "Stopped by the bandit policy at interval 2: the trial's best auc so far (0.66) is below 0.666667, "
        "the best trial's 0.8 / (1 + slack_factor 0.2)."
    )
    # at interval 1 only values up to interval 1 count: the best is 0.6, nobody is stopped
    assert evaluate(policy, "Maximize", "auc", series, "poor", 1) is None
    # a trial's best so far counts, not its latest value: "ok" logged 0.1 at interval 3
    assert evaluate(policy, "Maximize", "auc", series, "ok", 3) is None
    # the best trial itself is never stopped
    assert evaluate(policy, "Maximize", "auc", series, "best", 2) is None


def test_bandit_slack_factor_with_negative_values() -> None:
    policy = Policy("bandit", slack_factor=0.1)
    series = {"best": [-0.14], "close": [-0.15], "far": [-0.2]}
    # the threshold stays on the worse side of the best: -0.14 - 0.14 * 0.1 / 1.1 = -0.152727
    assert evaluate(policy, "Maximize", "r2", series, "best", 1) is None
    assert evaluate(policy, "Maximize", "r2", series, "close", 1) is None
    stop = evaluate(policy, "Maximize", "r2", series, "far", 1)
    assert stop is not None and abs(stop.threshold - (-0.14 - 0.014 / 1.1)) < 1e-12
    assert "the best trial's -0.14 - 0.0127273 (slack_factor 0.1)" in stop.reason
    # minimize: -0.14 + 0.014 = -0.126
    low = {"best": [-0.2], "near": [-0.19], "far": [-0.1]}
    assert evaluate(policy, "Minimize", "loss", low, "near", 1) is None
    far = evaluate(policy, "Minimize", "loss", low, "far", 1)
    assert far is not None and abs(far.threshold - (-0.18)) < 1e-12


def test_bandit_slack_amount_minimize() -> None:
    policy = Policy("bandit", slack_amount=0.5)
    series = {"a": [3.0, 2.0], "b": [3.0, 2.4], "c": [3.0, 2.6], "late": [9.0]}
    assert evaluate(policy, "Minimize", "loss", series, "b", 2) is None  # 2.4 <= 2.0 + 0.5
    stop = evaluate(policy, "Minimize", "loss", series, "c", 2)
    assert stop is not None and stop.threshold == 2.5
    assert "best loss so far (2.6) is above 2.5, the best trial's 2 + slack_amount 0.5" in stop.reason
    # at interval 1 "late" (9.0) is compared with the others' first values (3.0): 9 > 3.5
    late = evaluate(policy, "Minimize", "loss", series, "late", 1)
    assert late is not None and late.threshold == 3.5
    # an interval the trial has not reached is not evaluated
    assert evaluate(policy, "Minimize", "loss", series, "late", 2) is None


def test_median_stopping_uses_running_averages_at_the_same_interval() -> None:
    policy = Policy("median_stopping")
    series = {"t1": [0.2, 0.4, 0.6], "t2": [0.5, 0.5, 0.5], "t3": [0.1, 0.1, 0.3], "t4": [0.9]}
    # running averages at interval 3: t1 0.4, t2 0.5, t3 0.1667; the median is 0.4
    stop = evaluate(policy, "Maximize", "acc", series, "t3", 3)
    assert stop is not None and stop.value == 0.3 and abs(stop.threshold - 0.4) < 1e-12
    assert "median of the running averages of the 3 trials that reached interval 3" in stop.reason
    assert evaluate(policy, "Maximize", "acc", series, "t1", 3) is None  # 0.6 beats 0.4
    # at interval 1 four trials count: averages 0.2, 0.5, 0.1, 0.9, median 0.35
    first = evaluate(policy, "Maximize", "acc", series, "t1", 1)
    assert first is not None and abs(first.threshold - 0.35) < 1e-12
    # minimize mirrors it
    assert evaluate(policy, "Minimize", "acc", series, "t4", 1) is not None
    assert evaluate(policy, "Minimize", "acc", series, "t3", 1) is None


def test_truncation_selection_stops_the_worst_percentage() -> None:
    policy = Policy("truncation_selection", truncation_percentage=40)
    series = {"a": [0.9], "b": [0.8], "c": [0.7], "d": [0.6], "e": [0.5]}
    # 5 trials at interval 1: floor(5 * 40 / 100) = 2 are stopped, d and e
    stopped = [name for name in series if evaluate(policy, "Maximize", "auc", series, name, 1)]
    assert stopped == ["d", "e"]
    stop = evaluate(policy, "Maximize", "auc", series, "d", 1)
    assert stop is not None and stop.threshold == 0.7
    assert "among the worst 40% (2 of 5 trials that reached interval 1); 3 trial(s) did better" in stop.reason
    assert [n for n in series if evaluate(policy, "Minimize", "auc", series, n, 1)] == ["a", "b"]
    # ties favour the trial; too few trials for one to be cut: nobody is stopped
    assert evaluate(policy, "Maximize", "auc", {"x": [0.5], "y": [0.5], "z": [0.5]}, "x", 1) is None
    assert evaluate(policy, "Maximize", "auc", {"x": [0.1], "y": [0.9]}, "x", 1) is None


def test_no_metric_means_no_decision() -> None:
    policy = Policy("bandit", slack_factor=0.1)
    assert evaluate(policy, "Maximize", "auc", {}, "t", 1) is None
    assert evaluate(policy, "Maximize", "auc", {"t": [float("nan")], "u": [1.0]}, "t", 1) is None
