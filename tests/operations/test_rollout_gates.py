"""The rollout's small parsers and rules, no workspace needed: gates, steps, intervals, the
proportional split, per-step measurements, and the metric series' window of one step."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jupyter_mlep import SpecValidationError, UsageError
from jupyter_mlep.operations import Measurement, parse_gate, parse_interval, parse_steps, split_traffic
from jupyter_mlep.operations._metric_window import WindowMetrics, failed_status
from jupyter_mlep.workspace.metrics import MetricSeries

T0 = 1_800_000_000.0  # a whole minute


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("error_rate<1%", "error_rate<1%"),
        ("error_rate <= 0.5", "error_rate<=0.5%"),
        ("p95_ms<200", "p95_ms<200ms"),
        ("p99_ms < 0.2s", "p99_ms<200ms"),
        ("P50_MS>1ms", "p50_ms>1ms"),
        ("requests>=20", "requests>=20"),
    ],
)
def test_gates_parse(text: str, shown: str) -> None:
    assert str(parse_gate(text)) == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latency<5", "unknown metric 'latency'"),
        ("error_rate=1", "operator '='"),
        ("error_rate==1", "operator '=='"),
        ("error_rate<1ms", "error_rate is in %, not in ms"),
        ("requests>=5%", "requests is a plain count"),
        ("error_rate<150%", "percentage from 0 to 100"),
        ("p95_ms<", "not of the form METRIC<VALUE"),
        ("p95_ms<fast", "not of the form METRIC<VALUE"),
        ("", "not of the form METRIC<VALUE"),
    ],
)
def test_bad_gates_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")) as caught:
        parse_gate(text)
    assert "error_rate<1%" in str(caught.value)  # the hint shows examples


def test_gate_checks_name_the_measured_value() -> None:
    measured = Measurement(requests=8, errors=1, p95_ms=240.0)
    assert parse_gate("error_rate<1%").check(measured).message == "error_rate 12.5% is not < 1%"
    assert parse_gate("p95_ms<200").check(measured).message == "p95_ms 240 ms is not < 200 ms"
    assert parse_gate("requests>=5").check(measured).passed
    empty = parse_gate("p95_ms<200").check(Measurement(), who="green", when="step 2")
    assert not empty.passed and "no requests reached green during step 2" in empty.message
    assert not parse_gate("requests>=1").check(Measurement()).passed
    sampled = Measurement.from_samples([(200, 10.0), (500, 30.0), (0, 5000.0), (200, 12.0)])
    assert sampled.requests == 4 and sampled.errors == 2 and sampled.error_rate == 50.0
    assert sampled.p50_ms == 30.0 and sampled.p99_ms == 5000.0 and sampled.source == "sampled"


def test_steps_and_intervals() -> None:
    assert parse_steps("10,50,100") == [10, 50, 100]
    assert parse_steps("10%, 50") == [10, 50]
    assert parse_steps([25]) == [25]
    for bad, message in (("50,10", "increase"), ("0,100", "1 to 100"), ("10,x", "whole"), ("", "whole")):
        with pytest.raises(UsageError, match=message):
            parse_steps(bad)
    assert [parse_interval(v) for v in ("30s", "2m", "500ms", "45", 1.5, "PT1M")] == [
        30,
        120,
        0.5,
        45,
        1.5,
        60,
    ]
    for bad in ("0s", "-1", "soon", "30x", 0):
        with pytest.raises(UsageError, match="not a positive duration"):
            parse_interval(bad)


def test_split_gives_the_rest_in_proportion() -> None:
    assert split_traffic({"blue": 100, "green": 0}, "green", 10) == {"blue": 90, "green": 10}
    assert split_traffic({"blue": 100, "green": 0}, "green", 100) == {"blue": 0, "green": 100}
    assert split_traffic({"a": 60, "b": 30, "green": 10}, "green", 50) == {"a": 33, "b": 17, "green": 50}
    assert split_traffic({"a": 50, "b": 50}, "green", 25) == {"a": 38, "b": 37, "green": 25}
    assert sum(split_traffic({"a": 1, "b": 1, "c": 98}, "d", 1).values()) == 100
    with pytest.raises(SpecValidationError, match="No other deployment takes live traffic"):
        split_traffic({"green": 0}, "green", 50)


def test_a_step_is_judged_on_the_metrics_of_its_own_window() -> None:
    """The window of a step (from the moment its split was reported, mid-minute) holds exactly the
    requests of that step: earlier failures of the same minute stay out, mirrored copies count
    for the shadow deployment, other deployments apart."""
    now = [T0 + 12.0]  # 12 s into a minute
    series = MetricSeries(clock=lambda: now[0])
    for _ in range(5):
        series.request("Ep", "green", 500, 100.0)  # before the step
    now[0] = T0 + 20.0  # the step starts at :20 and lasts 30 s
    for i in range(40):
        now[0] = T0 + 20.0 + i * 0.7
        series.request("ep", "green", 200, 2.0 if i % 2 else 4.0)
        series.request("ep", "blue", 200, 1.0)
    series.request("ep", "green", 503, 9.0, mirror=True)
    now[0] = T0 + 55.0
    series.request("ep", "green", 500, 100.0)  # after the step
    start, end = _at(T0 + 20.0), _at(T0 + 50.0)
    counts = series.query(
        "ep", "green", ["RequestsPerMinute"], start, end, None, ["total"], {"statuscode": "*"}
    )
    by_code = {ts["metadatavalues"][0]["value"]: ts["data"][0]["total"] for ts in counts[0]["timeseries"]}
    assert by_code == {"200": 40.0, "503": 1.0}
    window = WindowMetrics(
        start,
        end,
        {code: int(total) for code, total in by_code.items()},
        {
            95: series.query("ep", "green", ["RequestLatency_P95"], start, end, None, None, {})[0][
                "timeseries"
            ][0]["data"][0]["average"]
        },
    )
    measured = Measurement.from_window(window, mirror=False)
    assert measured.requests == 41 and measured.errors == 1 and measured.source == "metrics"
    assert abs(measured.p95_ms - 4.0) / 4.0 < 0.02  # 2 and 4 ms live; the 9 ms copy is the top 2.5 %
    assert parse_gate("error_rate<5%").check(measured).passed
    assert not parse_gate("error_rate<1%").check(measured).passed
    minute = series.query(
        "ep", "green", ["RequestsPerMinute"], _at(T0), _at(T0 + 60), timedelta(minutes=1), ["total"], {}
    )
    assert minute[0]["timeseries"][0]["data"][0]["total"] == 47.0  # the minute holds them all


def test_errors_are_5xx_timeouts_and_no_answer() -> None:
    assert [failed_status(code) for code in (200, 404, 408, 429, 500, 503, 0, "502", "")] == [
        False, False, True, False, True, True, True, True, True,
    ]  # fmt: skip
    window = WindowMetrics(_at(T0), _at(T0 + 1), {"200": 6, "408": 1, "500": 1}, {50: 3.0}, complete=False)
    measured = Measurement.from_window(window, mirror=True)
    assert measured.error_rate == 25.0 and measured.source == "metrics (mirrored)" and not measured.complete
