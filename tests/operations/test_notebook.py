"""A notebook using ``%endpoint``, run by papermill in a real kernel against the local workspace."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import papermill
import pytest
from support.notebooks import notebook, outputs_text
from support.samples import SampleTree

PAPERMILL = Path(sys.executable).with_name("papermill")
pytestmark = pytest.mark.usefixtures("use_workspace")


def test_deploy_invoke_delete_notebook(tmp_path: Path, azureml_examples: Path) -> None:
    tree = SampleTree(tmp_path, azureml_examples, f"pm-{uuid.uuid4().hex[:6]}")
    source = notebook(
        tmp_path / "flow.ipynb",
        "%load_ext jupyter_mlep",
        "endpoint = 'x'\ndeployment_yml = 'x'\nrequest = 'x'",
        "%endpoint deploy -f $deployment_yml --all-traffic",
        "r = %endpoint invoke {endpoint} --request-file $request".replace("{endpoint}", tree.endpoint),
        "assert abs(r[0] - 11055.977) < 1e-3, r",
        "%endpoint keys " + tree.endpoint,
        "%endpoint delete " + tree.endpoint,
    )
    output = tmp_path / "flow-out.ipynb"
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters={
                "endpoint": tree.endpoint,
                "deployment_yml": str(tree.blue),
                "request": str(tree.request),
            },
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
    finally:
        text = outputs_text(output) if output.exists() else ""
    assert "Succeeded" in text and "200 from blue" in text
    assert "Keys of " + tree.endpoint in text and "Deleted endpoint" in text


def test_failing_notebook_exits_non_zero_with_our_error(tmp_path: Path) -> None:
    source = notebook(
        tmp_path / "broken.ipynb",
        "%load_ext jupyter_mlep",
        "name = 'no-such-endpoint'",
        "%endpoint invoke no-such-endpoint --data '{\"data\": [1]}'",
        "print('not reached')",
    )
    output = tmp_path / "broken-out.ipynb"
    finished = subprocess.run(
        [str(PAPERMILL), str(source), str(output), "--cwd", str(tmp_path), "-k", "python3"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )
    assert finished.returncode != 0
    assert "NotFoundError" in finished.stdout + finished.stderr
    text = outputs_text(output)
    assert "NotFoundError" in text and "No online endpoint named 'no-such-endpoint' exists." in text
    assert "not reached" not in text
