"""Honest progress and errors against the local workspace over real HTTP: the environment phase and
the build's warnings of a deploy, a deployment that does not start (its real cause, its log tail
once, no request ids printed for the local target), invoking it (refused at once with its state and
reason), a rollout to it (refused before any traffic moves), and Ctrl-C during ``deploy --traffic``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.arm import API
from support.clients import FAST_RETRY, make_client
from support.samples import SampleTree
from support.waiting import unique

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import OperationProgress, RestClient, StaticTokenCredential
from jupyter_mlep.specs import OnlineDeployment, load_deployment
from jupyter_mlep.verbs import cli_text
from jupyter_mlep.workspace import WorkspaceInfo

SCORE_LIGHTGBM = """\
import sys

print(PIP_NOISE, file=sys.stderr)  # what pip prints where a find-links folder of the host is missing

import lightgbm


def init():
    pass


def run(raw_data):
    return [1]
""".replace(
    "PIP_NOISE",
    repr(
        "WARNING: Location '/opt/wheels' is ignored: it is either a non-existing path or lacks a specific scheme."
    ),
)


@dataclass
class Honest:
    tree: SampleTree
    steps: list[ops.DeployStep]
    blue: ops.DeployResult
    failure: errors.OperationFailedError

    @property
    def endpoint(self) -> str:
        return self.tree.endpoint


def _with_code(spec: OnlineDeployment, code: Path, name: str) -> OnlineDeployment:
    assert spec.code_configuration is not None
    config = spec.code_configuration.model_copy(update={"code": code})
    return spec.model_copy(update={"name": name, "code_configuration": config})


@pytest.fixture(scope="module")
def honest(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[Honest]:
    """blue (all traffic, its deploy's phases recorded) and ``broken`` (its score.py imports lightgbm,
    which its environment does not have)."""
    root = tmp_path_factory.mktemp("honest")
    tree = SampleTree(root, azureml_examples, unique("hon"))
    steps: list[ops.DeployStep] = []
    with make_client(workspace) as client:
        blue = ops.deploy(client, load_deployment(tree.blue), traffic=100, timeout=600, on_phase=steps.append)
        code = root / "code-broken"
        code.mkdir()
        (code / "score.py").write_text(SCORE_LIGHTGBM)
        broken = _with_code(load_deployment(tree.green), code, "broken")
        with pytest.raises(errors.OperationFailedError) as caught:
            ops.deploy(client, broken, check_script=False, timeout=600)
        try:
            yield Honest(tree, steps, blue, caught.value)
        finally:
            ops.delete_endpoint(client, tree.endpoint, timeout=120)


def test_the_environment_build_is_its_own_phase_before_health(honest: Honest) -> None:
    seen = [(step.phase, step.state) for step in honest.steps]
    accepted = seen.index(("deployment", "done"))
    after = seen[accepted + 1 :]
    assert after[0] == ("environment", "running")
    built = after.index(("environment", "done"))
    assert ("health", "running") in after[built:]
    assert all(phase != "health" for phase, _ in after[:built]), "no health while the environment builds"
    detail = [s.detail for s in honest.steps[accepted + 1 :] if (s.phase, s.state) == ("environment", "done")]
    assert detail and ("reusing" in detail[0] or "ready" in detail[0])


def test_the_build_warnings_reach_the_deploy_result(honest: Honest) -> None:
    warnings = honest.blue.warnings
    assert any("asks for Python 3.12" in w for w in warnings), warnings
    assert any("does not use the image" in w for w in warnings), warnings
    assert len(warnings) == len(set(warnings))
    text, html = honest.blue.text(), honest.blue.html()
    assert "Warning: the conda file asks for Python 3.12" in text and "asks for Python 3.12" in html
    assert honest.blue.status_payload()["warnings"] == warnings


def test_a_deployment_that_does_not_start_says_why_once(honest: Honest, client: RestClient) -> None:
    error = honest.failure
    text = str(error)
    assert (
        "ModuleNotFoundError: No module named 'lightgbm' (while importing score.py, line 5)" in error.message
    )
    assert "init() of the scoring script failed, or it has no run()" not in text
    assert "did not start: Deployment" not in text  # the cause said once
    assert text.count("Worker failed to boot") == 1, text  # the log tail once
    assert "--- log tail ---" not in text and "Worker failed to boot" in error.log_tail
    noise = "is ignored: it is either a non-existing path"
    assert noise in ops.get_logs(client, honest.endpoint, "broken") and noise not in error.log_tail
    # the local target prints no request line and no ids; they stay on the exception
    assert "x-ms-request-id" not in text and "/subscriptions/" not in text and error.request_id not in text
    assert error.url and "/subscriptions/" in error.url and error.request_id and error.method == "PUT"


def test_a_request_error_prints_its_request_where_support_needs_it() -> None:
    error = errors.NotFoundError(
        "gone", method="GET", url="https://management.azure.com/x", status=404, request_id="r-1"
    )
    assert "Request: GET https://management.azure.com/x -> 404" in str(error) and "r-1" in str(error)
    error.show_request = False
    assert "Request: GET /x -> 404" in str(error) and "management.azure.com" not in str(error)
    assert "r-1" not in str(error) and error.request_id == "r-1"


def test_invoking_a_deployment_that_is_not_ready_fails_at_once(honest: Honest, client: RestClient) -> None:
    retried = client.sender.retried
    started = time.perf_counter()
    with pytest.raises(errors.ServiceError) as caught:
        ops.invoke(client, honest.endpoint, honest.tree.payload(), deployment="broken")
    assert time.perf_counter() - started < 2.0
    assert client.sender.retried == retried, "DeploymentNotReady is not retried"
    error = caught.value
    assert error.status == 503 and error.code == "DeploymentNotReady"
    text = str(error)
    assert "provisioningState is Failed" in text and "No module named 'lightgbm'" in text
    assert "Request: POST /endpoints/" in text and "%endpoint logs" in text


def test_a_rollout_to_a_failed_deployment_is_refused_before_traffic_moves(
    honest: Honest, client: RestClient
) -> None:
    events: list[str] = []
    with pytest.raises(errors.RolloutError) as caught:
        ops.rollout(client, honest.endpoint, "broken", steps="50,100", interval="1s", on_step=events.append)
    text = str(caught.value)
    assert "refused" in text and "provisioning state is Failed" in text and "lightgbm" in text
    assert "No traffic was moved" in text and "%endpoint logs" in text
    assert events == []  # not even planned
    assert caught.value.result is not None and caught.value.result.outcome == "error"
    assert {k: v for k, v in ops.get_traffic(client, honest.endpoint).traffic.items() if v} == {"blue": 100}
    # the rollout widget says so too
    from jupyter_mlep.widgets.rollout import RolloutWidget

    widget = RolloutWidget(honest.endpoint, "broken")
    with pytest.raises(errors.RolloutError):
        widget.run(client, steps="50,100", interval="1s")
    assert "provisioning state is Failed" in widget.last_message and "stopped by an error" in repr(widget)
    widget.close()


def test_ctrl_c_during_deploy_with_traffic_says_how_to_apply_it(honest: Honest, client: RestClient) -> None:
    def interrupt(update: OperationProgress) -> None:
        raise KeyboardInterrupt

    spec = load_deployment(honest.tree.green).model_copy(update={"name": "late"})
    with pytest.raises(errors.OperationInterruptedError) as caught:
        ops.deploy(client, spec, traffic=100, progress=interrupt, timeout=600)
    text = str(caught.value)
    assert "The traffic was not applied" in text
    assert f"%endpoint traffic {honest.endpoint} late=100" in text
    assert f"jupyter-mlep endpoint traffic {honest.endpoint} late=100" in cli_text(text)  # as the CLI says it
    assert ops.get_traffic(client, honest.endpoint).traffic.get("blue") == 100
    deadline = time.monotonic() + 300  # it goes on in the workspace: let it end before the next change
    while ops.get_deployment(client, honest.endpoint, "late").provisioning_state not in (
        "Succeeded",
        "Failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_what_an_error_prints_is_the_targets_choice(workspace: WorkspaceInfo) -> None:
    """The same 404 from the same server: the local target prints the path, a target whose support
    asks for request ids (azure) prints the URL and the ids; both keep them on the exception."""
    printed = {}
    for target in ("local", "azure"):
        rest = RestClient(
            workspace.base_url,
            StaticTokenCredential(workspace.token),
            workspace_path=workspace.workspace_path,
            api_version=API,
            target=target,
            retry=FAST_RETRY,
        )
        with rest, pytest.raises(errors.NotFoundError) as caught:
            rest.get(rest.paths.endpoint("no-such-endpoint"))
        assert caught.value.request_id and caught.value.url and "/subscriptions/" in caught.value.url
        printed[target] = str(caught.value)
    assert "Request: GET onlineEndpoints/no-such-endpoint -> 404" in printed["local"]
    assert "x-ms-request-id" not in printed["local"] and "127.0.0.1" not in printed["local"]
    assert f"Request: GET {workspace.base_url}/subscriptions/" in printed["azure"]
    assert "x-ms-request-id" in printed["azure"]
