"""``get_snippet``: client programs for a real deployment (inference-schema decorated, so its
OpenAPI document carries an example), executed against the local workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.endpoints import SCORE_WITH_SCHEMA, script_endpoint

from jupyter_mlep import _errors as errors
from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.settings import Settings
from jupyter_mlep.workspace import WorkspaceInfo


@pytest.fixture(scope="module")
def rest(workspace: WorkspaceInfo) -> Iterator[RestClient]:
    with RestClient.from_settings(Settings(home=workspace.home, target="local")) as client:
        yield client


@pytest.fixture(scope="module")
def endpoint(rest: RestClient, model_1: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An endpoint whose deployment ``blue`` (schema-decorated) has all the traffic."""
    folder = tmp_path_factory.mktemp("snippet-code")
    with script_endpoint(rest, model_1, folder, SCORE_WITH_SCHEMA, "snip") as name:
        yield name


def _run(command: list[str], variable: str, secret: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != variable}
    if secret is not None:
        env[variable] = secret
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_the_python_program_scores_the_openapi_example(
    rest: RestClient, endpoint: str, tmp_path: Path
) -> None:
    result = ops.get_snippet(rest, endpoint, language="python")
    key = ops.get_keys(rest, endpoint).primary_key
    assert key not in result.code, "the key itself is never written"
    assert (
        result.request_source == "openapi example"
        and result.variable == endpoint.upper().replace("-", "_") + "_KEY"
    )
    path = result.save(tmp_path)
    assert path.name == "score.py"
    ran = _run([sys.executable, str(path)], result.variable, key)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [6.0]
    refused = _run([sys.executable, str(path)], result.variable, "wrong-key")
    assert refused.returncode == 1 and "status 401" in refused.stderr
    missing = _run([sys.executable, str(path)], result.variable, None)
    assert missing.returncode == 1 and f"Set {result.variable}" in missing.stderr


def test_the_curl_program_scores_a_given_request_on_a_deployment(
    rest: RestClient, endpoint: str, tmp_path: Path
) -> None:
    request = {"features": [[1.0, 1.0, 1.0], [2.0, 3.0, 4.0]]}
    result = ops.get_snippet(rest, endpoint, language="curl", deployment="blue", request=request)
    assert result.request_source == "given" and "azureml-model-deployment: blue" in result.code
    path = result.save(tmp_path / "score.sh")
    key = ops.get_keys(rest, endpoint).primary_key
    ran = _run(["sh", str(path)], result.variable, key)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [3.0, 9.0]
    refused = _run(["sh", str(path)], result.variable, "wrong-key")
    assert refused.returncode != 0 and "401" in refused.stderr + refused.stdout


def test_the_javascript_program_runs_on_node(rest: RestClient, endpoint: str, tmp_path: Path) -> None:
    result = ops.get_snippet(rest, endpoint, language="javascript")
    key = ops.get_keys(rest, endpoint).primary_key
    ran = _run(["node", str(result.save(tmp_path))], result.variable, key)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [6.0]


def test_every_language_reads_the_secret_from_the_environment(rest: RestClient, endpoint: str) -> None:
    key = ops.get_keys(rest, endpoint).primary_key
    for language in ops.SNIPPET_LANGUAGES:
        result = ops.get_snippet(rest, endpoint, language=language)
        assert key not in result.code and result.variable in result.code
        assert ("Authorization" in result.code and "x-ms-request-id" in result.code) or language == "curl"
        assert (
            f'"{result.variable}"' in result.code
            or f"${result.variable}" in result.code
            or (f"process.env.{result.variable}" in result.code)
        )
    assert ops.get_snippet(rest, endpoint, language="csharp").filename == "Program.cs"


def test_an_unknown_language_is_refused(rest: RestClient, endpoint: str) -> None:
    with pytest.raises(errors.UsageError, match="No snippet for language 'ruby'"):
        ops.get_snippet(rest, endpoint, language="ruby")


def test_the_example_is_read_from_openapi_2_and_3() -> None:
    v2 = {
        "paths": {
            "/score": {"post": {"parameters": [{"in": "body", "schema": {"$ref": "#/definitions/In"}}]}}
        },
        "definitions": {"In": {"type": "object", "example": {"a": 1}}},
    }
    v3 = {
        "paths": {
            "/score": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}
                    }
                }
            }
        },
        "components": {"schemas": {"In": {"example": {"b": 2}}}},
    }
    assert ops.swagger_example(v2) == {"a": 1}
    assert ops.swagger_example(v3) == {"b": 2}
    assert ops.swagger_example({"paths": {}}) is None


def test_the_command_line_writes_the_program(endpoint: str, workspace: WorkspaceInfo, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("jupyter-mlep")
    env = {**os.environ, "MLEP_HOME": str(workspace.home)}
    ran = subprocess.run(
        [str(cli), "endpoint", "snippet", endpoint, "--lang", "curl", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    written = tmp_path / "score.sh"
    assert written.is_file() and f"Wrote {written}" in ran.stderr + ran.stdout
    assert os.access(written, os.X_OK)
    unknown = subprocess.run(
        [str(cli), "endpoint", "snippet", endpoint, "--lang", "ruby"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert unknown.returncode == 2 and "invalid choice: 'ruby'" in unknown.stderr
