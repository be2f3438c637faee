"""The metric series survive a real restart of the workspace: a graceful stop saves them, and a
workspace killed outright (SIGKILL) keeps what it last saved (every ``MLEP_METRICS_SAVE_SECONDS``);
the saved file stays bounded by the series' retention."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from support.clients import make_client
from support.samples import SampleTree
from support.workspace import process_workspace

from jupyter_mlep import operations as ops
from jupyter_mlep.specs import load_deployment, load_endpoint
from jupyter_mlep.workspace import WorkspaceInfo, control


def _send(info: WorkspaceInfo, tree: SampleTree, count: int, *, fail: bool = False) -> None:
    with make_client(info) as client:
        uri = str(ops.get_endpoint(client, tree.endpoint).scoring_uri)
        key = ops.get_keys(client, tree.endpoint).primary_key
    payload = {"data": "not a matrix"} if fail else tree.payload()
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {key}"}) as http:
        deadline = time.monotonic() + 120
        while (reply := http.post(uri, json=payload)).status_code == 503:  # restarting: not counted
            assert time.monotonic() < deadline, reply.text
            time.sleep(0.2)
        assert reply.status_code == (500 if fail else 200)
        for _ in range(count - 1):
            assert http.post(uri, json=payload).status_code == (500 if fail else 200)


def _by_status(info: WorkspaceInfo, endpoint: str) -> dict[str, float]:
    with make_client(info) as client:
        result = ops.get_metrics(
            client, endpoint, "blue", metrics=["RequestsPerMinute"], since=3600, split="statusCode"
        )
    return {item.dimensions["statusCode"]: item.total() for item in result.series}


def _saved(home: Path, endpoint: str) -> int:
    """Requests of ``endpoint`` in the saved file (0 before the first save)."""
    try:
        data = json.loads((home / "workspace" / "metrics.json").read_text())
    except (OSError, ValueError):
        return 0
    return sum(
        count
        for ring in data["rings"]
        if ring["key"][0] == endpoint.lower()
        for slot in ring["slots"]
        for count in slot["status"].values()
    )


def test_metrics_survive_a_stop_and_a_kill(
    tmp_path: Path, env_cache: Path, azureml_examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLEP_METRICS_SAVE_SECONDS", "1")
    monkeypatch.setenv("MLEP_METRICS_SAMPLE_SECONDS", "1")
    home = tmp_path / "home"
    tree = SampleTree(tmp_path / "tree", azureml_examples, "kept-metrics")
    with process_workspace(home, env_cache) as info:
        with make_client(info) as client:
            ops.create_endpoint(client, load_endpoint(tree.endpoint_yml))
            ops.deploy(client, load_deployment(tree.blue), traffic=100, timeout=600)
        _send(info, tree, 7)
        _send(info, tree, 2, fail=True)
        assert _by_status(info, tree.endpoint) == {"200": 7.0, "500": 2.0}
    # a graceful stop saved them; the restarted workspace serves them again
    assert (home / "workspace" / "metrics.json").stat().st_mode & 0o777 == 0o600
    with process_workspace(home, env_cache) as again:
        assert again.pid != info.pid
        assert _by_status(again, tree.endpoint) == {"200": 7.0, "500": 2.0}
        _send(again, tree, 5)
        deadline = time.monotonic() + 30
        while _saved(home, tree.endpoint) < 14:  # saved every second (here)
            assert time.monotonic() < deadline, "the series were not saved"
            time.sleep(0.2)
        os.kill(again.pid, signal.SIGKILL)  # no chance to save at exit
        deadline = time.monotonic() + 10
        while control.status(home) is not None:
            assert time.monotonic() < deadline, "the killed server still holds its lock"
            time.sleep(0.05)
    with process_workspace(home, env_cache) as third:
        assert _by_status(third, tree.endpoint) == {"200": 12.0, "500": 2.0}
        with make_client(third) as client:
            ops.delete_endpoint(client, tree.endpoint, timeout=120)
