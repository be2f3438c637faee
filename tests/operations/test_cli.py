"""``jupyter-mlep endpoint …`` in a subprocess against the local workspace: exit codes 0/1/2,
``--output json|table``, masked keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from support.samples import EXPECTED_MODEL_1, SampleTree, close_to

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

CLI = Path(sys.executable).with_name("jupyter-mlep")


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLEP_HOME": str(home)}
    return subprocess.run(
        [str(CLI), "endpoint", *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def test_cli_flow(
    workspace: WorkspaceInfo, ops_home: Path, tmp_path: Path, azureml_examples: Path, client: RestClient
) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"cli-{uuid.uuid4().hex[:6]}")
    name = tree.endpoint
    try:
        deployed = cli(ops_home, "-o", "json", "deploy", "-f", str(tree.blue), "--all-traffic")
        assert deployed.returncode == 0, deployed.stderr
        summary = json.loads(deployed.stdout)
        assert summary["traffic"] == {"blue": 100} and summary["deployment"]["name"] == "blue"
        assert f"Creating endpoint {name}" in deployed.stderr

        scored = cli(ops_home, "invoke", name, "--request-file", str(tree.request))
        assert scored.returncode == 0, scored.stderr
        assert close_to(json.loads(scored.stdout), EXPECTED_MODEL_1)

        traffic = cli(ops_home, "--output", "json", "traffic", name)
        assert json.loads(traffic.stdout)["traffic"] == {"blue": 100}
        table = cli(ops_home, "list")
        assert table.returncode == 0 and name in table.stdout and "scoring URI" in table.stdout

        keys = cli(ops_home, "-o", "json", "keys", name)
        primary = ops.get_keys(client, name).primary_key
        assert (
            primary not in keys.stdout
            and json.loads(keys.stdout)["primary_key"] == f"{primary[:4]}…{primary[-4:]}"
        )

        missing = cli(ops_home, "show", name + "x")
        assert missing.returncode == 1
        assert "NotFoundError" in missing.stderr and f"Did you mean '{name}'" in missing.stderr
        assert "Traceback" not in missing.stderr

        bad = cli(ops_home, "traffic", name, "blue=50")
        assert bad.returncode == 1 and "sum to 100" in bad.stderr
        usage = cli(ops_home, "invoke")
        assert usage.returncode == 2 and "error:" in usage.stderr

        logs = cli(ops_home, "logs", name, "blue", "--lines", "50")
        assert logs.returncode == 0 and "Init complete" in logs.stdout
    finally:
        deleted = cli(ops_home, "delete", name)
    assert deleted.returncode == 0, deleted.stderr
    assert client.find(client.paths.endpoint(name)) is None
