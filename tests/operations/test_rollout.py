"""Progressive rollout end to end against the local workspace over real HTTP: real deployments
(blue = the model-1 scoring script; green, red, slow = test-written scripts), gates on the
deployments' real metrics, real traffic from a background thread. The magic and the CLI run it too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.clients import make_client
from support.samples import SampleTree

from jupyter_mlep import RolloutError, RolloutInterruptedError, RolloutResult
from jupyter_mlep import operations as ops
from jupyter_mlep.rendering import STATUS_MIME
from jupyter_mlep.rest import RestClient
from jupyter_mlep.specs import load_deployment, load_endpoint
from jupyter_mlep.workspace import WorkspaceInfo

SCORE_GREEN = """\
def init():
    print("green ready")


def run(raw_data):
    return [0.5, 0.5]
"""

SCORE_RED = """\
def init():
    print("red ready")


def run(raw_data):
    raise RuntimeError("red is broken on purpose")
"""

SCORE_SLOW = """\
import time


def init():
    print("slow ready")


def run(raw_data):
    time.sleep(0.3)
    return [0.5, 0.5]
"""

CLI = Path(sys.executable).with_name("jupyter-mlep")
OTHERS = ("green", "red", "slow")


class Rollouts:
    """The endpoint of this module: blue (all traffic) and green, red, slow (none)."""

    def __init__(self, tree: SampleTree) -> None:
        self.tree = tree
        self.endpoint = tree.endpoint
        self.request = tree.request

    def reset(self, client: RestClient) -> None:
        ops.update_traffic(
            client, self.endpoint, {"blue": 100, **{name: 0 for name in OTHERS}}, mirror_traffic={}
        )


@pytest.fixture(scope="module")
def rollouts(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[Rollouts]:
    root = tmp_path_factory.mktemp("rollout")
    tree = SampleTree(root, azureml_examples, f"roll-{uuid.uuid4().hex[:6]}")
    with make_client(workspace) as client:
        ops.create_endpoint(client, load_endpoint(tree.endpoint_yml))
        started = time.perf_counter()
        ops.deploy(client, load_deployment(tree.blue), traffic=100, timeout=600)
        green = load_deployment(tree.green)
        assert green.code_configuration is not None
        for name, script in (("green", SCORE_GREEN), ("red", SCORE_RED), ("slow", SCORE_SLOW)):
            code = root / f"code-{name}"
            code.mkdir()
            (code / "score.py").write_text(script)
            config = green.code_configuration.model_copy(update={"code": code})
            spec = green.model_copy(update={"name": name, "code_configuration": config})
            assert ops.deploy(client, spec, timeout=300).deployment.provisioning_state == "Succeeded"
        print(f"\nrollout fixture: 4 deployments in {time.perf_counter() - started:.1f} s")
        try:
            yield Rollouts(tree)
        finally:
            ops.delete_endpoint(client, tree.endpoint, timeout=120)


@pytest.fixture(autouse=True)
def blue_has_everything(rollouts: Rollouts, client: RestClient) -> None:
    rollouts.reset(client)


class Traffic:
    """Scoring requests sent to the endpoint from a background thread until stopped."""

    def __init__(self, client: RestClient, endpoint: str, payload: Any) -> None:
        info = ops.get_endpoint(client, endpoint)
        self.uri = str(info.scoring_uri)
        self.key = ops.get_keys(client, endpoint).primary_key
        self.payload = payload
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(timeout=10) as http:
            while not self._stop.is_set():
                try:
                    http.post(self.uri, json=self.payload, headers=headers)
                except httpx.HTTPError:
                    time.sleep(0.01)
                self.sent += 1

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def shown(split: dict[str, int]) -> dict[str, int]:
    return {name: value for name, value in split.items() if value}


def test_success_moves_traffic_step_by_step(rollouts: Rollouts, client: RestClient) -> None:
    seen: list[tuple[str, dict[str, int]]] = []
    events: list[str] = []

    def on_step(event: ops.RolloutEvent) -> None:
        events.append(event.kind)
        if event.kind == "step-started":
            assert event.step is not None
            seen.append((event.step.label, shown(ops.get_traffic(client, rollouts.endpoint).traffic)))

    started = time.perf_counter()
    with Traffic(client, rollouts.endpoint, rollouts.tree.payload()) as traffic:
        result = ops.rollout(
            client,
            rollouts.endpoint,
            "green",
            steps="10,50,100",
            interval="1s",
            gates=["error_rate<1%", "requests>=1", "p95_ms<5000"],
            sample_request=rollouts.request,
            on_step=on_step,
        )
    elapsed = time.perf_counter() - started
    print(f"\nrollout 10/50/100 at 1 s: {elapsed:.2f} s, {traffic.sent} background requests")
    assert seen == [
        ("step 1 (green=10%)", {"blue": 90, "green": 10}),
        ("step 2 (green=50%)", {"blue": 50, "green": 50}),
        ("step 3 (green=100%)", {"green": 100}),
    ]
    assert events[0] == "planned" and events[-1] == "finished"
    assert events.count("step-passed") == 3 and "step-failed" not in events
    assert result.succeeded and not result.rolled_back
    assert shown(result.final_traffic) == {"green": 100}
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"green": 100}
    assert [step.state for step in result.steps] == ["passed"] * 3
    for step in result.steps:
        assert step.measurement is not None and step.measurement.requests >= 1
        assert all(check.passed for check in step.checks)
    # the last step saw green's live traffic in its metrics, not samples
    assert result.steps[-1].measurement is not None
    assert result.steps[-1].measurement.source == "metrics"
    status = result._repr_mimebundle_()[STATUS_MIME]
    assert status["kind"] == "rollout" and status["outcome"] == "succeeded"
    assert [step["percent"] for step in status["steps"]] == [10, 50, 100]
    assert "step 2 (green=50%)" in repr(result) and "<table>" in result._repr_html_()
    json.dumps(result.to_dict())


def test_failing_gate_restores_the_original_split(rollouts: Rollouts, client: RestClient) -> None:
    ops.update_traffic(client, rollouts.endpoint, {"blue": 80, "green": 20, "red": 0, "slow": 0})
    with Traffic(client, rollouts.endpoint, rollouts.tree.payload()), pytest.raises(RolloutError) as caught:
        ops.rollout(
            client,
            rollouts.endpoint,
            "red",
            steps=[10, 50, 100],
            interval=1,
            gates=["error_rate<1%"],
            sample_request=rollouts.request,
            sample_count=5,
        )
    error = caught.value
    text = str(error)
    assert "step 1 (red=10%)" in text and "is not < 1%" in text and "error_rate" in text
    assert "restored to the original split (blue=80%, green=20%)" in text
    # blue and green shared the rest in proportion: 72/18 at red=10%
    result = error.result
    assert isinstance(result, RolloutResult)
    assert shown(result.steps[0].traffic) == {"blue": 72, "green": 18, "red": 10}
    assert result.outcome == "failed" and result.rolled_back
    assert [step.state for step in result.steps] == ["failed", "pending", "pending"]
    measured = result.steps[0].measurement
    assert measured is not None and measured.requests > 0 and measured.error_rate == 100.0
    assert measured.source == "metrics" and measured.status.keys() == {"500"}
    now = ops.get_traffic(client, rollouts.endpoint)
    assert shown(now.traffic) == {"blue": 80, "green": 20} and shown(now.mirror_traffic) == {}
    assert error._render_traceback_()[0].startswith("RolloutError: Rollout of red")


def test_mirror_first_fails_on_mirrored_requests(rollouts: Rollouts, client: RestClient) -> None:
    events: list[tuple[str, dict[str, int]]] = []

    def on_step(event: ops.RolloutEvent) -> None:
        if event.kind == "step-started":
            events.append(("mirror", shown(ops.get_traffic(client, rollouts.endpoint).mirror_traffic)))

    with Traffic(client, rollouts.endpoint, rollouts.tree.payload()), pytest.raises(RolloutError) as caught:
        ops.rollout(
            client,
            rollouts.endpoint,
            "red",
            steps="50,100",
            interval="1s",
            mirror_first=20,
            gates=["error_rate<5%"],
            sample_request=rollouts.request,
            sample_count=5,
            on_step=on_step,
        )
    assert events == [("mirror", {"red": 20})]
    assert "mirror step (red mirrored 20%)" in str(caught.value)
    result = caught.value.result
    step = result.steps[0]
    assert step.mirror and step.state == "failed" and step.measurement is not None
    assert step.measurement.source in ("metrics (mirrored)", "sampled") and step.measurement.errors > 0
    now = ops.get_traffic(client, rollouts.endpoint)
    assert shown(now.traffic) == {"blue": 100} and shown(now.mirror_traffic) == {}


def test_mirror_first_then_live_steps(rollouts: Rollouts, client: RestClient) -> None:
    with Traffic(client, rollouts.endpoint, rollouts.tree.payload()):
        result = ops.rollout(
            client,
            rollouts.endpoint,
            "green",
            steps=[50],
            interval=1.0,
            mirror_first=50,
            gates=["error_rate<1%"],
            sample_request=rollouts.request,
            sample_count=3,
        )
    assert [step.label for step in result.steps] == ["mirror step (green mirrored 50%)", "step 1 (green=50%)"]
    assert result.succeeded
    now = ops.get_traffic(client, rollouts.endpoint)
    assert shown(now.traffic) == {"blue": 50, "green": 50} and shown(now.mirror_traffic) == {}


def test_latency_gate_fails_on_a_slow_deployment(rollouts: Rollouts, client: RestClient) -> None:
    with pytest.raises(RolloutError) as caught:
        ops.rollout(
            client,
            rollouts.endpoint,
            "slow",
            steps=[50, 100],
            interval=0.5,
            gates=["error_rate<1%", "p95_ms<100"],
            sample_request=rollouts.request,
            sample_count=4,
        )
    text = str(caught.value)
    assert "step 1 (slow=50%)" in text and "p95_ms" in text and "is not < 100 ms" in text
    measured = caught.value.result.steps[0].measurement
    assert measured.source == "sampled" and measured.requests == 4 and measured.p95_ms >= 250
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"blue": 100}


def test_latency_gate_on_live_traffic_rolls_back_a_slow_deployment(
    rollouts: Rollouts, client: RestClient
) -> None:
    with Traffic(client, rollouts.endpoint, rollouts.tree.payload()), pytest.raises(RolloutError) as caught:
        ops.rollout(
            client, rollouts.endpoint, "slow", steps=[50, 100], interval="3s",
            gates=["error_rate<1%", "p95_ms<100"],
        )  # fmt: skip
    text = str(caught.value)
    assert "step 1 (slow=50%)" in text and "p95_ms" in text and "is not < 100 ms" in text
    measured = caught.value.result.steps[0].measurement
    assert measured.source == "metrics" and measured.requests >= 2 and measured.errors == 0
    assert measured.p95_ms >= 250, measured  # the script sleeps 300 ms
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"blue": 100}


def test_gates_wait_until_the_steps_metrics_are_published(
    rollouts: Rollouts, client: RestClient, workspace: WorkspaceInfo
) -> None:
    """Against a workspace that publishes its metrics late (as Azure Monitor does, minutes late):
    a gate that waits longer than that sees every request of its step; one that waits 1 s (for a
    3 s delay) sees them still arriving when its wait ends, and fails the step rather than judge
    part of them."""
    admin = httpx.Client(base_url=workspace.base_url, headers={"Authorization": f"Bearer {workspace.token}"})
    assert admin.post("/mlep/v1/faults/metrics", json={"delaySeconds": 1.5}).status_code == 200
    try:
        with Traffic(client, rollouts.endpoint, rollouts.tree.payload()):
            began = datetime.now(timezone.utc)
            time.sleep(2.0)
            ended = datetime.now(timezone.utc)
            published = ops.window_metrics(client, rollouts.endpoint, "blue", began, ended, delay=2.5)
            result = ops.rollout(
                client, rollouts.endpoint, "green", steps=[50], interval="2s", gates=["requests>=1"],
                metrics_delay=2.5,
            )  # fmt: skip
            assert admin.post("/mlep/v1/faults/metrics", json={"delaySeconds": 3}).status_code == 200
            with pytest.raises(RolloutError, match="still being published when the wait for them ended"):
                ops.rollout(
                    client, rollouts.endpoint, "green", steps=[100], interval="4s", gates=["requests>=1"],
                    metrics_delay=1,
                )  # fmt: skip
    finally:
        admin.delete("/mlep/v1/faults")
        admin.close()
    immediate = ops.window_metrics(client, rollouts.endpoint, "blue", began, ended)
    assert published.complete and published.reads >= 2
    assert published.status == immediate.status, "the wait saw every request of the window"
    assert published.requests > 0
    assert result.succeeded and result.steps[0].measurement.source == "metrics"
    assert result.steps[0].measurement.complete
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"blue": 50, "green": 50}


def test_no_requests_fails_clearly_and_samples_pass(rollouts: Rollouts, client: RestClient) -> None:
    with pytest.raises(RolloutError) as caught:
        ops.rollout(client, rollouts.endpoint, "green", steps=[100], interval=0.3, gates=["error_rate<1%"])
    assert "no requests reached green during step 1; send traffic or pass --sample-request" in str(
        caught.value
    )
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"blue": 100}

    result = ops.rollout(
        client,
        rollouts.endpoint,
        "green",
        steps=[100],
        interval=0.3,
        gates=["error_rate<1%", "requests>=3"],
        sample_request=rollouts.tree.payload(),
        sample_count=3,
    )
    assert result.succeeded and result.steps[0].measurement is not None
    assert result.steps[0].measurement.source == "sampled"
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"green": 100}


def test_ctrl_c_restores_the_original_split(rollouts: Rollouts, client: RestClient) -> None:
    ops.update_traffic(client, rollouts.endpoint, mirror_traffic={"slow": 10})
    kinds: list[str] = []

    def on_step(event: ops.RolloutEvent) -> None:
        kinds.append(event.kind)
        if event.kind == "step-started" and event.step is not None and event.step.index == 2:
            assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"blue": 50, "green": 50}
            raise KeyboardInterrupt

    with pytest.raises(RolloutInterruptedError) as caught:
        ops.rollout(client, rollouts.endpoint, "green", steps="10,50,100", interval=0.2, on_step=on_step)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert "interrupted at step 2 (green=50%)" in str(caught.value)
    assert kinds[-2:] == ["restoring", "restored"]
    now = ops.get_traffic(client, rollouts.endpoint)
    assert shown(now.traffic) == {"blue": 100} and shown(now.mirror_traffic) == {"slow": 10}
    result = caught.value.result
    assert result.outcome == "interrupted" and result.rolled_back
    assert [step.state for step in result.steps] == ["rolled back", "failed", "pending"]


def test_wrong_arguments_change_nothing(rollouts: Rollouts, client: RestClient) -> None:
    from jupyter_mlep import NotFoundError, UsageError

    with pytest.raises(UsageError, match="unknown metric 'latency'"):
        ops.rollout(client, rollouts.endpoint, "green", gates=["latency<5"])
    with pytest.raises(UsageError, match="must increase"):
        ops.rollout(client, rollouts.endpoint, "green", steps="50,10")
    with pytest.raises(UsageError, match="not a positive duration"):
        ops.rollout(client, rollouts.endpoint, "green", interval="soon")
    with pytest.raises(NotFoundError, match="Did you mean 'green'"):
        ops.rollout(client, rollouts.endpoint, "gren", steps=[100], interval=0.1)
    with pytest.raises(UsageError, match="request file"):
        ops.rollout(client, rollouts.endpoint, "green", sample_request=Path("/nonexistent.json"))
    assert shown(ops.get_traffic(client, rollouts.endpoint).traffic) == {"blue": 100}


# -- the magic and the command line ---------------------------------------------------------------


@pytest.mark.usefixtures("use_workspace")
def test_magic_static_mode_prints_steps_and_fails_the_cell(
    rollouts: Rollouts,
    client: RestClient,
    ip: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLEP_WIDGETS", "static")
    name = rollouts.endpoint
    ip.user_ns["sample"] = rollouts.tree.payload()
    result = ip.run_line_magic(
        "endpoint",
        f'rollout {name} green --steps 50,100 --interval 300ms --gate "error_rate<1%" --gate "requests>=2" '
        "--sample-request $sample --sample-count 2",
    )
    out = capsys.readouterr().out
    assert isinstance(result, RolloutResult) and result.succeeded
    assert "step 1 (green=50%): blue=50%, green=50% for 300 ms" in out
    assert "step 2 (green=100%): passed" in out and "Rollout of green done" in out
    assert shown(ops.get_traffic(client, name).traffic) == {"green": 100}

    rollouts.reset(client)
    cell = ip.run_cell(
        f'%endpoint rollout {name} red --steps 100 --interval 0.2s --gate "error_rate<1%" '
        f"--sample-request {rollouts.request} --sample-count 2"
    )
    assert isinstance(cell.error_in_exec, RolloutError)
    assert "step 1 (red=100%)" in str(cell.error_in_exec)
    assert shown(ops.get_traffic(client, name).traffic) == {"blue": 100}
    with pytest.raises(RolloutError, match="no requests reached green"):
        ip.run_line_magic("endpoint", f'rollout {name} green --steps 100 --interval 0.2 --gate "p95_ms<200"')


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLEP_HOME": str(home)}
    return subprocess.run(
        [str(CLI), "endpoint", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_cli_rollout(rollouts: Rollouts, client: RestClient, ops_home: Path) -> None:
    name = rollouts.endpoint
    sample = str(rollouts.request)
    done = cli(
        ops_home,
        "-o",
        "json",
        "rollout",
        name,
        "green",
        "--steps",
        "30,100",
        "--interval",
        "0.2s",
        "--gate",
        "error_rate<1%",
        "--sample-request",
        sample,
        "--sample-count",
        "2",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcome"] == "succeeded" and shown(summary["traffic"]) == {"green": 100}
    assert [step["state"] for step in summary["steps"]] == ["passed", "passed"]
    assert "step 1 (green=30%)" in done.stderr

    rollouts.reset(client)
    failed = cli(
        ops_home, "rollout", name, "red", "--steps", "100", "--interval", "0.2s", "--gate", "error_rate<1%",
        "--sample-request", sample, "--sample-count", "2",
    )  # fmt: skip
    assert failed.returncode == 1
    assert "RolloutError" in failed.stderr and "step 1 (red=100%)" in failed.stderr
    assert "restored to the original split (blue=100%)" in failed.stderr and "Traceback" not in failed.stderr
    assert shown(ops.get_traffic(client, name).traffic) == {"blue": 100}

    wrong = cli(ops_home, "rollout", name, "green", "--gate", "error_rate=1")
    assert wrong.returncode == 2 and "operator '='" in wrong.stderr


def test_widget_draws_a_real_rollout(rollouts: Rollouts, client: RestClient) -> None:
    from jupyter_mlep.widgets.rollout import RolloutWidget

    widget = RolloutWidget(rollouts.endpoint, "green")
    result = widget.run(
        client,
        steps=[50, 100],
        interval=0.2,
        gates=["requests>=1"],
        sample_request=rollouts.request,
        sample_count=1,
    )
    assert result.succeeded and widget.result is result
    rows = [child for child in widget.children if "mlep-rollout-step" in child._dom_classes]
    assert [row._dom_classes[-1] for row in rows] == ["mlep-step-passed", "mlep-step-passed"]
    assert "step 2 (green=100%)" in rows[1].value and "requests 1 is &gt;= 1" in rows[1].value
    assert widget._repr_mimebundle_()[STATUS_MIME]["outcome"] == "succeeded"
    widget.close()


@pytest.mark.usefixtures("use_workspace")
def test_magic_interactive_mode_shows_the_widget(
    rollouts: Rollouts,
    client: RestClient,
    ip: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLEP_WIDGETS", "interactive")
    result = ip.run_line_magic(
        "endpoint",
        f"rollout {rollouts.endpoint} green --steps 100 --interval 0.2s --gate requests>=1 "
        f"--sample-request {rollouts.request} --sample-count 1",
    )
    assert isinstance(result, RolloutResult) and result.succeeded
    out = capsys.readouterr().out
    assert f"Rollout of green on {rollouts.endpoint}" in out  # the widget's text/plain, displayed first
    assert "step 1 (green=100%): green=100% for" not in out  # no printed progress lines
