"""The background Poller: ends when its work is done, when stopped, or after repeated errors."""

from __future__ import annotations

import threading
import time

from support.waiting import wait_until

from jupyter_mlep.widgets import Poller


def test_stops_when_the_poll_says_done_and_calls_on_done_once() -> None:
    calls: list[int] = []
    done: list[str] = []
    poller = Poller(
        lambda: calls.append(1) or len(calls) >= 3,
        interval=0.01,
        on_done=lambda: done.append("x"),
        name="t-done",
    )
    poller.start().join(5)
    assert not poller.running and poller.reason == "done"
    assert len(calls) == 3 and done == ["x"]


def test_three_failures_in_a_row_stop_it_and_report_each() -> None:
    seen: list[str] = []

    def poll() -> bool:
        raise RuntimeError("service down")

    poller = Poller(poll, interval=0.01, on_error=lambda exc: seen.append(str(exc)), name="t-errors")
    poller.start().join(5)
    assert not poller.running and poller.reason == "errors"
    assert seen == ["service down"] * 3 and poller.errors == 3 and poller.polls == 3
    assert isinstance(poller.last_error, RuntimeError)


def test_a_success_resets_the_failure_count() -> None:
    results = iter([RuntimeError("a"), RuntimeError("b"), False, RuntimeError("c"), RuntimeError("d"), True])

    def poll() -> bool:
        value = next(results)
        if isinstance(value, Exception):
            raise value
        return value

    poller = Poller(poll, interval=0.01, name="t-reset")
    poller.start().join(5)
    assert poller.reason == "done" and poller.errors == 4


def test_stop_ends_the_thread_at_once() -> None:
    poller = Poller(lambda: False, interval=30.0, name="t-stop").start()
    wait_until(lambda: poller.polls >= 1)
    started = time.perf_counter()
    poller.stop()
    assert time.perf_counter() - started < 1.0
    assert not poller.running and poller.reason == "stopped"
    assert "t-stop" not in [t.name for t in threading.enumerate()]


def test_a_long_poll_slows_down_to_the_maximum_interval() -> None:
    poller = Poller(lambda: False, interval=0.01, slow_after=0.05, max_interval=0.04, name="t-slow").start()
    wait_until(lambda: poller.interval == 0.04, timeout=5)
    poller.stop()
    assert not poller.running
