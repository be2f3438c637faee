"""The front end's rough edges that need a server, against the local workspace: ``%endpoint token``
and ``keys`` on a token endpoint, a large answer shown as a preview, arrays in payloads, options
after the verb, hints in each front end's syntax naming the real names, and ``%endpoint swagger``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_mlep import UsageError, get_token, invoke
from jupyter_mlep.cli import main
from jupyter_mlep.rendering import Result
from jupyter_mlep.rest import RestClient
from jupyter_mlep.workspace import WorkspaceInfo

pytestmark = pytest.mark.usefixtures("use_workspace")

SCRIPT = """\
import json


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data)["data"]
    if data == "fail":
        raise RuntimeError("failing on purpose")
    if data == "big":
        return [[i, i * 2] for i in range(20000)]
    return {"received": data}
"""


def line(ip: Any, text: str) -> Any:
    return ip.run_line_magic("endpoint", text)


@pytest.fixture(scope="module")
def deployed(
    workspace: WorkspaceInfo, ops_home: Path, tmp_path_factory: pytest.TempPathFactory, model_1: Path
) -> Iterator[str]:
    """An endpoint whose deployment blue (all traffic) runs :data:`SCRIPT`, made with the command line."""
    name = f"edges-{uuid.uuid4().hex[:6]}"
    code = tmp_path_factory.mktemp("edges-code")
    (code / "score.py").write_text(SCRIPT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLEP_HOME", str(ops_home))
        patch.setenv("MLEP_IGNORE_CONFIG_JSON", "1")
        patch.delenv("MLEP_TARGET", raising=False)
        argv = ["endpoint", "deploy", name, "blue", "--model", str(model_1 / "model"), "--code", str(code)]
        argv += ["--scoring-script", "score.py", "--env", str(model_1 / "environment" / "conda.yaml")]
        assert main([*argv, "--all-traffic"]) == 0
        try:
            yield name
        finally:
            main(["endpoint", "delete", name])


def test_token_verb_end_to_end(ip: Any, client: RestClient, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"tok-{uuid.uuid4().hex[:6]}"
    line(ip, f"create {name} --auth-mode aml_token")
    try:
        token = line(ip, f"token {name}")
        assert isinstance(token, Result) and token.status_payload()["kind"] == "token"
        assert token.access_token and token.access_token not in repr(token)
        assert token.access_token not in token._repr_html_() and token.access_token not in json.dumps(
            token.status_payload()
        )
        assert f"{token.access_token[:4]}…{token.access_token[-4:]}" in repr(token)
        assert token.expiry_time_utc > time.time() and "expires 20" in repr(token)
        assert get_token(client, name).access_token  # the whole token from Python

        with pytest.raises(UsageError) as caught:
            line(ip, f"keys {name}")
        assert f"%endpoint token {name}" in str(caught.value) and "jupyter_mlep.get_token" in str(
            caught.value
        )

        capsys.readouterr()
        assert main(["endpoint", "keys", name]) == 2
        assert f"jupyter-mlep endpoint token {name}" in capsys.readouterr().err
        assert main(["endpoint", "token", name, "--output", "json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["endpoint"] == name and "…" in shown["access_token"]
    finally:
        line(ip, f"delete {name}")


def test_token_on_a_key_endpoint_names_keys(ip: Any, deployed: str) -> None:
    with pytest.raises(UsageError, match=f"%endpoint keys {deployed}"):
        line(ip, f"token {deployed}")


def test_large_answer_is_previewed_and_kept_whole(ip: Any, deployed: str) -> None:
    from IPython.lib.pretty import pretty

    ip.run_cell(f"""r = %endpoint invoke {deployed} --data '{{"data": "big"}}'""")
    answer = ip.user_ns["r"]
    assert len(answer) == 20000 and answer[19999] == [19999, 39998]
    shown = pretty(answer)
    assert len(shown) < 2000 and "20,000 items" in shown


def test_array_payload_is_converted(ip: Any, deployed: str, client: RestClient) -> None:
    ip.user_ns["payload"] = {"data": np.arange(4).reshape(2, 2)}
    assert line(ip, f"invoke {deployed} --data $payload") == {"received": [[0, 1], [2, 3]]}
    # from Python too: one rule (jupyter_mlep.scoring.jsonable) for every request given as a value
    answer = invoke(client, deployed, {"data": np.arange(2), "n": np.int64(3)})
    assert answer.body == {"received": [0, 1]}
    with pytest.raises(UsageError, match=r"The payload holds a builtins\.set"):
        invoke(client, deployed, {"data": {1, 2}})


def test_common_options_after_the_verb(deployed: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["endpoint", "invoke", deployed, "--data", '{"data": [1]}', "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == 200 and out["body"] == {"received": [1]} and out["deployment"] == "blue"


def test_hints_name_the_real_endpoint_in_each_syntax(
    ip: Any, deployed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(Exception) as caught:
        line(ip, f"""invoke {deployed} --data '{{"data": "fail"}}'""")
    assert f"(%endpoint logs {deployed} blue --request-id " in str(caught.value)
    capsys.readouterr()
    assert main(["endpoint", "invoke", deployed, "--data", '{"data": "fail"}']) == 1
    err = capsys.readouterr().err
    assert f"(jupyter-mlep endpoint logs {deployed} blue --request-id " in err and "%endpoint" not in err


def test_swagger_verb(ip: Any, deployed: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``%endpoint swagger`` (needs operations.get_swagger)."""
    document = line(ip, f"swagger {deployed} --deployment blue --version 3")
    assert isinstance(document, Result) and document.status_payload()["kind"] == "swagger"
    assert "openapi" in json.dumps(document.to_dict())
    capsys.readouterr()
    assert main(["endpoint", "swagger", deployed, "--version", "2", "-o", "json"]) == 0
    assert "swagger" in capsys.readouterr().out
