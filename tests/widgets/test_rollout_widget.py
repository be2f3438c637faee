"""The rollout widget without a browser: rows per step, their state classes, text/HTML/status
outputs, fed with the same events :func:`jupyter_mlep.operations.rollout` sends."""

from __future__ import annotations

from jupyter_mlep.operations import (
    Measurement,
    RolloutEvent,
    RolloutResult,
    RolloutStep,
    parse_gates,
)
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.widgets.rollout import RolloutWidget, step_row_html


def _result() -> RolloutResult:
    steps = [
        RolloutStep(0, "green", 10, {"blue": 100}, {"green": 10}, mirror=True),
        RolloutStep(1, "green", 10, {"blue": 90, "green": 10}, {}),
        RolloutStep(2, "green", 50, {"blue": 50, "green": 50}, {}),
    ]
    return RolloutResult(
        endpoint="ep",
        deployment="green",
        steps=steps,
        gates=parse_gates(["error_rate<1%", "p95_ms<200"]),
        interval=1.0,
        original_traffic={"blue": 100},
        final_traffic={"blue": 100},
    )


def _classes(widget: object) -> list[str]:
    return list(getattr(widget, "_dom_classes", ()))


def test_rows_follow_the_steps() -> None:
    result = _result()
    widget = RolloutWidget("ep", "green")
    assert "mlep-rollout" in _classes(widget)
    assert repr(widget) == "Rollout of green on ep: not started"
    assert widget._repr_mimebundle_()[STATUS_MIME]["outcome"] == "pending"

    widget.update(RolloutEvent("planned", "Rollout of green on ep", result))
    rows = [child for child in widget.children if "mlep-rollout-step" in _classes(child)]
    assert len(rows) == 3 and all("mlep-step-pending" in _classes(row) for row in rows)

    mirror = result.steps[0]
    mirror.state = "running"
    widget.update(RolloutEvent("step-started", "mirror step …", result, mirror))
    assert "mlep-step-running" in _classes(rows[0]) and "mlep-step-pending" not in _classes(rows[0])
    assert rows[0].value.count("mirror step (green mirrored 10%)") == 1

    mirror.measurement = Measurement(requests=12, errors=0, source="router (mirrored)", p95_ms=8.0)
    mirror.checks = [gate.check(mirror.measurement) for gate in result.gates]
    mirror.state = "passed"
    widget.update(RolloutEvent("step-passed", "mirror step passed", result, mirror))
    assert "mlep-step-passed" in _classes(rows[0])
    assert "error_rate 0% is &lt; 1%" in rows[0].value and "p95_ms 8 ms is &lt; 200 ms" in rows[0].value
    assert "12 request(s)" in rows[0].value

    step = result.steps[1]
    step.state = "failed"
    step.measurement = Measurement(requests=8, errors=1, p95_ms=30.0)
    step.checks = [gate.check(step.measurement) for gate in result.gates]
    step.reason = "error_rate 12.5% is not < 1%"
    mirror.state = "rolled back"
    result.outcome, result.rolled_back, result.reason = "failed", True, step.reason
    widget.update(RolloutEvent("restored", "Traffic restored to the original split: blue=100%", result, step))
    assert "mlep-step-failed" in _classes(rows[1]) and "mlep-step-rolled-back" in _classes(rows[0])
    assert "error_rate 12.5% is not &lt; 1%" in rows[1].value

    bundle = widget._repr_mimebundle_()
    assert "step 1 (green=10%)" in bundle["text/plain"] and "failed" in bundle["text/plain"]
    assert "Traffic restored to the original split: blue=100%" in bundle["text/plain"]
    assert "mlep-rollout" in bundle["text/html"] and "<table>" in bundle["text/html"]
    status = bundle[STATUS_MIME]
    assert status["kind"] == "rollout" and status["outcome"] == "failed" and status["rolled_back"]
    assert [s["state"] for s in status["steps"]] == ["rolled back", "failed", "pending"]
    assert status["steps"][1]["measurement"]["error_rate"] == 12.5
    assert "Traffic restored" in widget.children[-1].value
    widget.close()


def test_step_row_html_escapes_and_says_why() -> None:
    step = RolloutStep(1, "g<b>", 100, {"g<b>": 100}, {}, state="failed", reason="no requests reached g<b>")
    html = step_row_html(step)
    assert "<b>" not in html and "step 1 (g&lt;b&gt;=100%)" in html
    assert "no requests reached g&lt;b&gt;" in html
