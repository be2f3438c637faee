"""The workspace's per-minute metric series without a server: exact counts, percentiles, the
Azure Monitor answer shape, and storage that stays bounded over a long synthetic run."""

from __future__ import annotations

import random
import tracemalloc
from datetime import datetime, timedelta, timezone

from jupyter_mlep.workspace.metrics import FINE_SECONDS, RETENTION_MINUTES, MetricSeries, parse_filter

T0 = 1_800_000_000.0  # a whole minute


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _query(series: MetricSeries, names: list[str], minutes: int, **kw: object) -> list[dict[str, object]]:
    return series.query(
        "ep",
        kw.get("deployment"),  # type: ignore[arg-type]
        names,
        _at(T0),
        _at(T0 + minutes * 60),
        timedelta(minutes=int(kw.get("step", 1))),  # type: ignore[call-overload]
        kw.get("aggregations"),  # type: ignore[arg-type]
        kw.get("filters", {}),  # type: ignore[arg-type]
    )


def test_counts_are_exact_per_minute_and_by_status() -> None:
    clock = Clock()
    series = MetricSeries(clock=clock)
    for minute, count in enumerate((7, 0, 12)):
        clock.now = T0 + minute * 60 + 5
        for i in range(count):
            series.request("EP", "blue", 500 if i == 0 else 200, 10.0)
    value = _query(series, ["RequestsPerMinute"], 3, aggregations=["total"])
    data = value[0]["timeseries"][0]["data"]  # type: ignore[index]
    assert [point.get("total") for point in data] == [7.0, None, 12.0]
    assert data[0]["timeStamp"] == _at(T0).strftime("%Y-%m-%dT%H:%M:%SZ")
    split = _query(series, ["RequestsPerMinute"], 3, aggregations=["total"], filters={"statuscode": "*"})
    by_code = {
        ts["metadatavalues"][0]["value"]: sum(p.get("total", 0) for p in ts["data"])  # type: ignore[index]
        for ts in split[0]["timeseries"]  # type: ignore[index]
    }
    assert by_code == {"200": 17.0, "500": 2.0}
    five = _query(series, ["RequestsPerMinute"], 3, aggregations=["total"], step=5)
    assert [p["total"] for p in five[0]["timeseries"][0]["data"]] == [19.0]  # type: ignore[index]


def test_percentiles_are_within_two_percent_of_the_exact_ones() -> None:
    series = MetricSeries(clock=Clock())
    rng = random.Random(4)
    values = sorted(rng.lognormvariate(2.5, 0.8) for _ in range(5000))
    for value in values:
        series.request("ep", "blue", 200, value)
    for p in (50, 90, 95, 99):
        answer = _query(series, [f"RequestLatency_P{p}"], 1)
        got = answer[0]["timeseries"][0]["data"][0]["average"]  # type: ignore[index]
        exact = values[int(p / 100 * len(values)) - 1]
        assert abs(got - exact) / exact < 0.02, (p, got, exact)
    mean = _query(series, ["RequestLatency"], 1, aggregations=["average", "count", "maximum"])
    point = mean[0]["timeseries"][0]["data"][0]  # type: ignore[index]
    assert point["count"] == 5000 and abs(point["average"] - sum(values) / 5000) < 0.01
    assert point["maximum"] == round(values[-1], 4)


def test_cpu_memory_by_instance_and_filters() -> None:
    series = MetricSeries(clock=Clock())
    for cpu in (10.0, 30.0):
        series.sample("ep", "blue", "i0", cpu, 5.0)
    series.sample("ep", "green", "i0", 90.0, 7.0)
    blue = _query(series, ["CpuUtilizationPercentage"], 1, deployment="blue")
    assert blue[0]["timeseries"][0]["data"][0]["average"] == 20.0  # type: ignore[index]
    assert parse_filter("deployment eq 'blue' and statusCode eq '*'") == {
        "deployment": "blue",
        "statuscode": "*",
    }
    assert parse_filter("deployment = blue") is None


def test_storage_stays_bounded_over_three_days_of_ten_deployments() -> None:
    clock = Clock()
    series = MetricSeries(clock=clock)
    tracemalloc.start()
    for minute in range(3 * 24 * 60):
        clock.now = T0 + minute * 60
        for dep in range(10):
            series.request("ep", f"d{dep}", 200, 5.0 + dep)
            series.request("ep", f"d{dep}", 200, 7.0 + dep)
            series.sample("ep", f"d{dep}", "i0", 20.0, 10.0)
            series.connection("ep", f"d{dep}", 1)
            series.connection("ep", f"d{dep}", -1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert series.slots() == 10 * RETENTION_MINUTES
    saved = series.dump()
    print(
        f"\n24 h (+1 h) of metrics for 10 deployments: {series.slots()} slots, peak {peak / 2**20:.1f} MiB"
        f" traced, {len(saved) / 2**20:.1f} MiB on disk"
    )
    assert peak < 200 * 2**20 and len(saved) < 50 * 2**20

    restarted = MetricSeries(clock=clock)  # a restarted workspace reads back what is still kept
    restarted.load(saved)
    assert restarted.slots() == series.slots()
    everything = 3 * 24 * 60
    assert _query(restarted, ["RequestsPerMinute"], everything) == _query(
        series, ["RequestsPerMinute"], everything
    )
    clock.now += 3600  # an hour later, the oldest hour is past the retention
    later = MetricSeries(clock=clock)
    later.load(saved)
    assert later.slots() == 10 * (RETENTION_MINUTES - 60)
    later.load("not json")


def test_mirrored_copies_count_for_the_shadow_deployment_not_the_endpoint() -> None:
    series = MetricSeries(clock=Clock())
    for _ in range(10):
        series.request("ep", "blue", 200, 5.0)
    for _ in range(3):
        series.request("ep", "green", 200, 9.0, mirror=True)
    endpoint = _query(series, ["RequestsPerMinute"], 1, aggregations=["total"])
    assert endpoint[0]["timeseries"][0]["data"][0]["total"] == 10.0  # type: ignore[index]
    green = _query(series, ["RequestsPerMinute"], 1, aggregations=["total"], deployment="green")
    assert green[0]["timeseries"][0]["data"][0]["total"] == 3.0  # type: ignore[index]


def test_a_window_of_instants_is_exact_to_the_second_across_minutes() -> None:
    clock = Clock()
    series = MetricSeries(clock=clock)
    for second in range(0, 180):  # one request a second for three minutes, a failure every 10th
        clock.now = T0 + second + 0.5
        series.request("ep", "blue", 500 if second % 10 == 0 else 200, 5.0)

    def count(start: float, end: float, **kw: object) -> dict[str, float]:
        value = series.query(
            "ep", "blue", ["RequestsPerMinute"], _at(start), _at(end), None, ["total"], {"statuscode": "*"}
        )
        return {ts["metadatavalues"][0]["value"]: ts["data"][0]["total"] for ts in value[0]["timeseries"]}  # type: ignore[index]

    # 00:45 to 02:15: 15 s of the first minute, all of the second, 15 s of the third
    assert count(T0 + 45, T0 + 135) == {"200": 81.0, "500": 9.0}
    assert count(T0 + 45, T0 + 46) == {"500" if 45 % 10 == 0 else "200": 1.0}
    full = series.query("ep", "blue", ["RequestsPerMinute"], _at(T0 + 45), _at(T0 + 135), None, ["total"], {})
    assert full[0]["timeseries"][0]["data"][0]["timeStamp"] == _at(T0 + 45).strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[index]

    series.publish_delay = 30.0  # as Azure Monitor's ingestion delay: the last 30 s are not out yet
    clock.now = T0 + 180
    assert sum(count(T0 + 120, T0 + 180).values()) == 30.0
    minutes = _query(series, ["RequestsPerMinute"], 3, aggregations=["total"])
    assert [p.get("total") for p in minutes[0]["timeseries"][0]["data"]] == [60.0, 60.0, None]  # type: ignore[index]
    series.publish_delay = 0.0

    clock.now = T0 + 180 + FINE_SECONDS  # the per-second ring no longer holds the first minutes:
    assert count(T0 + 45, T0 + 135) == {"200": 162.0, "500": 18.0}  # their whole minutes count
    assert max(len(ring) for ring in series._fine.values()) == FINE_SECONDS  # bounded
