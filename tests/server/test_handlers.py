"""The panel's routes in a real Jupyter server: authentication on every route, the snapshot and its
change feed, and each action against the real local workspace (blue and green deployed as local
processes): traffic moves and Apply, invoke, keys (masked, then whole on their own call), logs as
server-sent events, delete refused for a deployment with live traffic."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.arm import JOB_CONDA
from support.clients import deployed_sample
from support.samples import SampleTree
from support.waiting import unique
from tornado.httpclient import HTTPClientError

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.server._handlers import ROUTES
from jupyter_mlep.specs import load_batch_deployment, spec_from_dict
from jupyter_mlep.workspace import WorkspaceInfo, stop

ROUTE_SAMPLES = {
    "panel": "panel",
    "endpoints/([^/]+)/invoke": "endpoints/x/invoke",
    "endpoints/([^/]+)/traffic": "endpoints/x/traffic",
    "endpoints/([^/]+)/keys(?:/([^/]+))?": "endpoints/x/keys",
    "resources/([^/]+)/([^/]+)": "resources/online-endpoint/x",
    "logs/([^/]+)/([^/]+)": "logs/job/x",
}


async def fetch_json(jp_fetch: Any, *parts: str, **kwargs: Any) -> Any:
    kwargs.setdefault("request_timeout", 40)
    response = await jp_fetch("jupyter-mlep", *parts, **kwargs)
    return json.loads(response.body)


async def test_every_route_refuses_anonymous_requests(jp_fetch: Any) -> None:
    assert {pattern for pattern, _ in ROUTES} == set(ROUTE_SAMPLES)
    for path in ROUTE_SAMPLES.values():
        for method, body in (("GET", None), ("POST", b"{}"), ("PUT", b"{}"), ("DELETE", None)):
            with pytest.raises(HTTPClientError) as refused:
                await jp_fetch("jupyter-mlep", path, method=method, body=body, headers={"Authorization": ""})
            assert refused.value.code in (403, 405), (method, path, refused.value.code)


async def test_changes_from_a_cookie_session_need_the_xsrf_token(jp_fetch: Any, feed: Any) -> None:
    first = await jp_fetch("jupyter-mlep", "panel")  # a token login leaves the browser a cookie
    cookie = "; ".join(c.split(";")[0] for c in first.headers.get_list("Set-Cookie"))
    session = {"Authorization": "", "Cookie": cookie}
    assert (await jp_fetch("jupyter-mlep", "panel", headers=session)).code == 200
    for method, path in (
        ("POST", "panel"),
        ("POST", "endpoints/x/invoke"),
        ("POST", "endpoints/x/keys/primary"),
        ("PUT", "endpoints/x/traffic"),
        ("DELETE", "resources/online-endpoint/x"),
    ):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(
                "jupyter-mlep",
                path,
                method=method,
                body=None if method == "DELETE" else b"{}",
                headers=session,
            )
        assert refused.value.code == 403 and b"xsrf" in refused.value.response.body.lower(), (method, path)


async def test_without_a_workspace_the_panel_says_how_to_start_one(jp_fetch: Any, feed: Any) -> None:
    first = await fetch_json(jp_fetch, "panel")
    assert first["target"] == "local" and "local" in first["targets"]
    deadline = time.monotonic() + 10
    snapshot = first
    while snapshot["loading"] and time.monotonic() < deadline:
        snapshot = await fetch_json(jp_fetch, "panel", params={"since": str(snapshot["version"])})
    assert "No local workspace runs" in snapshot["error"]["message"]
    assert "jupyter-mlep workspace start" in snapshot["error"]["hint"]
    assert [s["kind"] for s in snapshot["sections"]] == ["online-endpoint", "batch-endpoint", "job", "sweep"]


async def test_the_panel_starts_the_local_workspace_when_asked(
    jp_fetch: Any, feed: Any, isolated_settings: Path
) -> None:
    assert (await settled(jp_fetch, lambda s: s["error"] is not None))["can_start"]
    try:
        await fetch_json(jp_fetch, "panel", method="POST", body=json.dumps({"start": True}))
        snapshot = await settled(jp_fetch, lambda s: not s["loading"] and s["error"] is None, timeout=30)
        assert [len(s["items"]) for s in snapshot["sections"]] == [0, 0, 0, 0]
    finally:
        await asyncio.get_running_loop().run_in_executor(None, lambda: stop(isolated_settings, timeout=15))


async def test_an_unchanged_snapshot_costs_a_304(jp_fetch: Any, feed: Any) -> None:
    snapshot = await settled(jp_fetch, lambda s: not s["loading"])
    response = await jp_fetch("jupyter-mlep", "panel")
    etag = response.headers["ETag"]
    assert etag == f'"{snapshot["version"]}"'
    with pytest.raises(HTTPClientError) as unchanged:
        await jp_fetch("jupyter-mlep", "panel", headers={"If-None-Match": etag})
    assert unchanged.value.code == 304


@pytest.fixture(scope="module")
def sample(
    workspace: WorkspaceInfo, tmp_path_factory: pytest.TempPathFactory, azureml_examples: Path
) -> Iterator[SampleTree]:
    """blue (model-1) with all the traffic, green (model-2) with none."""
    with deployed_sample(
        workspace, tmp_path_factory.mktemp("sample"), azureml_examples, unique("pn")
    ) as done:
        yield done.tree


@pytest.fixture
def endpoint(sample: SampleTree, client: RestClient, use_workspace: WorkspaceInfo) -> str:
    ops.update_traffic(client, sample.endpoint, {"blue": 100, "green": 0}, mirror_traffic={})
    return sample.endpoint


async def settled(jp_fetch: Any, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The first snapshot (following the change feed) for which ``predicate`` holds."""
    snapshot = await fetch_json(jp_fetch, "panel")
    deadline = time.monotonic() + timeout
    while not predicate(snapshot):
        assert time.monotonic() < deadline, snapshot
        snapshot = await fetch_json(jp_fetch, "panel", params={"since": str(snapshot["version"])})
    return snapshot


def item(snapshot: dict[str, Any], kind: str, name: str) -> dict[str, Any] | None:
    for section in snapshot["sections"]:
        for found in section["items"]:
            if found["kind"] == kind and found["name"] == name:
                return found
    return None


async def test_the_panel_lists_the_endpoint_and_follows_a_change(
    endpoint: str, jp_fetch: Any, feed: Any, client: RestClient
) -> None:
    snapshot = await settled(jp_fetch, lambda s: item(s, "online-endpoint", endpoint) is not None)
    found = item(snapshot, "online-endpoint", endpoint)
    assert found is not None
    bars = {child["name"]: child["bars"][0] for child in found["children"]}
    assert bars == {
        "blue": {"label": "blue", "live": 100, "mirror": 0},
        "green": {"label": "green", "live": 0, "mirror": 0},
    }
    assert found["magic"] == f"%endpoint show {endpoint}"
    assert {"invoke", "traffic", "keys", "delete", "insert"} <= set(found["actions"])
    assert {s["endpoint"] for s in snapshot["servers"]} >= {endpoint}

    started = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: ops.update_traffic(client, endpoint, {"blue": 60, "green": 40})
    )
    changed = time.monotonic()
    moved = await settled(
        jp_fetch, lambda s: "blue=60%" in str((item(s, "online-endpoint", endpoint) or {}).get("details"))
    )
    assert time.monotonic() - changed < 2.0, "the change took more than 2 s to reach the feed"
    assert moved["version"] > snapshot["version"] and started


async def test_traffic_moves_follow_the_widget_rules_and_apply_waits(
    endpoint: str, jp_fetch: Any, feed: Any, client: RestClient
) -> None:
    moved = await fetch_json(
        jp_fetch,
        "endpoints",
        endpoint,
        "traffic",
        method="POST",
        body=json.dumps({"traffic": {"blue": 100, "green": 0}, "deployment": "green", "percent": 30}),
    )
    assert moved["traffic"] == {"blue": 70, "green": 30} and moved["problem"] is None
    bad = await fetch_json(
        jp_fetch,
        "endpoints",
        endpoint,
        "traffic",
        method="POST",
        body=json.dumps({"traffic": {"blue": 70, "green": 30}, "mirror_traffic": {"green": 10}}),
    )
    assert bad["problem"] and "mirror" in bad["problem"].lower()
    applied = await fetch_json(
        jp_fetch,
        "endpoints",
        endpoint,
        "traffic",
        method="PUT",
        body=json.dumps({"traffic": moved["traffic"]}),
    )
    assert applied["traffic"] == {"blue": 70, "green": 30}
    assert dict(ops.get_endpoint(client, endpoint).traffic or {}) == {"blue": 70, "green": 30}


async def test_invoke_says_which_deployment_answered(
    endpoint: str, jp_fetch: Any, feed: Any, sample: SampleTree
) -> None:
    example = await fetch_json(jp_fetch, "endpoints", endpoint, "invoke")
    assert example["endpoint"] == endpoint  # the sample's scripts publish no example: null
    answer = await fetch_json(
        jp_fetch,
        "endpoints",
        endpoint,
        "invoke",
        method="POST",
        body=json.dumps({"payload": sample.payload(), "deployment": "green"}),
    )
    assert answer["status"] == 200 and answer["deployment"] == "green" and answer["body"] == [0.5, 0.5]
    with pytest.raises(HTTPClientError) as empty:
        await jp_fetch("jupyter-mlep", "endpoints", endpoint, "invoke", method="POST", body="{}")
    assert empty.value.code == 400
    assert "payload" in json.loads(empty.value.response.body)["message"]


async def test_keys_are_masked_and_whole_only_on_their_own_call(
    endpoint: str, jp_fetch: Any, feed: Any, client: RestClient
) -> None:
    keys = ops.get_keys(client, endpoint)
    masked = await fetch_json(jp_fetch, "endpoints", endpoint, "keys")
    assert keys.primary_key not in json.dumps(masked) and masked["primary"]
    whole = await fetch_json(jp_fetch, "endpoints", endpoint, "keys", "secondary", method="POST", body="{}")
    assert whole["key"] == keys.secondary_key


async def test_deleting_a_deployment_with_live_traffic_is_refused(
    endpoint: str, jp_fetch: Any, feed: Any
) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch(
            "jupyter-mlep",
            "resources",
            "online-deployment",
            "blue",
            method="DELETE",
            params={"parent": endpoint},
        )
    body = json.loads(refused.value.response.body)
    assert refused.value.code in (400, 409) and body["message"], body


async def stream_until(jp_fetch: Any, marker: bytes, *parts: str, **params: str) -> str:
    """The server-sent events of ``GET /jupyter-mlep/<parts>`` read until ``marker`` arrives (the
    stream never ends: the client gives up 3 s after)."""
    chunks: list[bytes] = []
    done = asyncio.get_running_loop().create_future()

    def receive(chunk: bytes) -> None:
        chunks.append(chunk)
        if marker in b"".join(chunks) and not done.done():
            done.set_result(None)

    fetching = jp_fetch("jupyter-mlep", *parts, params=params, streaming_callback=receive, request_timeout=3)
    await asyncio.wait_for(done, 15)
    with pytest.raises(HTTPClientError):
        await fetching
    return b"".join(chunks).decode()


async def test_logs_stream_as_server_sent_events(endpoint: str, jp_fetch: Any, feed: Any) -> None:
    events = await stream_until(jp_fetch, b"data: ", "logs", "online-deployment", "blue", parent=endpoint)
    first = events.split("\n\n")[0]
    assert first.startswith("data: ") and isinstance(json.loads(first[6:]), str)


async def test_a_target_without_its_settings_is_refused_with_how_to_set_them(
    jp_fetch: Any, feed: Any
) -> None:
    for target, words in (("azure", "are not set"), ("moon", "Unknown target")):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("jupyter-mlep", "panel", method="POST", body=json.dumps({"target": target}))
        body = json.loads(refused.value.response.body)
        assert refused.value.code == 400 and words in body["message"] and body["hint"], body
    assert (await fetch_json(jp_fetch, "panel"))["target"] == "local"


@pytest.fixture
def finished_job(use_workspace: WorkspaceInfo, client: RestClient, tmp_path: Path) -> str:
    """A command job of the shared workspace that printed a line and completed."""
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('training the panel job')\n")
    conda = tmp_path / "conda.yml"
    conda.write_text("name: train\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - numpy\n")
    spec = spec_from_dict(
        {
            "type": "command",
            "command": "python train.py",
            "code": str(code),
            "environment": {
                "conda_file": str(conda),
                "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04",
            },
            "experiment_name": "panel-test",
        },
        kind="commandJob",
    )
    job = ops.create_job(client, spec, name=unique("pj"))
    assert ops.wait_for_job(client, job.name, timeout=300).status == "Completed"
    return job.name


async def test_a_finished_job_is_listed_and_its_log_streams(
    finished_job: str, jp_fetch: Any, feed: Any
) -> None:
    snapshot = await settled(jp_fetch, lambda s: item(s, "job", finished_job) is not None, timeout=20)
    found = item(snapshot, "job", finished_job)
    assert (
        found is not None and found["state"] == "Completed" and found["magic"] == f"%job show {finished_job}"
    )
    assert dict(found["details"])["experiment"] == "panel-test" and dict(found["details"])["duration"]
    events = await stream_until(jp_fetch, b"training the panel job", "logs", "job", finished_job)
    assert events.startswith("data: ")


async def test_a_log_that_cannot_be_read_ends_its_stream_with_the_reason(
    use_workspace: WorkspaceInfo, jp_fetch: Any, feed: Any
) -> None:
    answer = await jp_fetch("jupyter-mlep", "logs", "job", "no-such-job-here", request_timeout=30)
    event, data = answer.body.decode().split("\n\n")[0].split("\n")
    assert event == "event: failure" and "no-such-job-here" in json.loads(data[6:])["message"]


BATCH_SCORE = "def init():\n    pass\n\ndef run(mini_batch):\n    return [str(len(mini_batch))]\n"


async def test_a_batch_endpoint_is_listed_with_its_default_deployment_and_deleted(
    use_workspace: WorkspaceInfo, client: RestClient, jp_fetch: Any, feed: Any, tmp_path: Path
) -> None:
    endpoint = unique("pbat")
    (tmp_path / "model.txt").write_text("1")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(BATCH_SCORE)
    (tmp_path / "conda.yml").write_text(JOB_CONDA)
    (tmp_path / "deployment.yml").write_text(
        f"name: blue\nendpoint_name: {endpoint}\ntype: model\nmodel:\n  path: model.txt\n"
        "code_configuration:\n  code: src\n  scoring_script: score.py\n"
        "environment:\n  image: python:3.11-slim\n  conda_file: conda.yml\nsettings:\n  mini_batch_size: 4\n"
    )
    spec = load_batch_deployment(tmp_path / "deployment.yml")
    await asyncio.get_running_loop().run_in_executor(None, lambda: ops.deploy_batch(client, spec))
    snapshot = await settled(jp_fetch, lambda s: item(s, "batch-endpoint", endpoint) is not None)
    found = item(snapshot, "batch-endpoint", endpoint)
    assert found is not None and found["magic"] == f"%batch jobs {endpoint}"
    assert dict(found["details"]) == {"default deployment": "blue"}
    [child] = found["children"]
    assert child["kind"] == "batch-deployment" and child["parent"] == endpoint
    assert dict(child["details"])["mini-batch"] == "4 file(s)" and dict(child["details"])["default"] == "yes"

    await jp_fetch(
        "jupyter-mlep", "resources", "batch-endpoint", endpoint, method="DELETE", request_timeout=120
    )
    await settled(jp_fetch, lambda s: item(s, "batch-endpoint", endpoint) is None, timeout=30)
    assert endpoint not in {e.name for e in ops.list_batch_endpoints(client).endpoints}
