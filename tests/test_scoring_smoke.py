"""The smoke test: init() then run(request) in a real fresh subprocess, as the inference server calls them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jupyter_mlep import ScoreTestError, UsageError
from jupyter_mlep.scoring import ScoreTestResult, check_score_script, smoke_test_score_script

MODEL_1_SCRIPT = """
import json
import os

import joblib
import numpy as np


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
    model = joblib.load(model_path)
    print("model loaded")


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
"""

ECHO_SCRIPT = """
def init():
    pass

def run(raw):
    return {"type": type(raw).__name__, "raw": raw}
"""


def write(folder: Path, source: str, name: str = "score.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def failure(path: Path, request: object = "{}", **kwargs: object) -> ScoreTestError:
    with pytest.raises(ScoreTestError) as info:
        smoke_test_score_script(path, request, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_model_1_predicts_and_shows_the_version_warning(tmp_path: Path, model_1: Path) -> None:
    path = write(tmp_path, MODEL_1_SCRIPT)
    result = smoke_test_score_script(path, (model_1 / "sample-request.json").read_bytes(), model_dir=model_1)
    assert result.response == pytest.approx([11055.977, 4503.080], abs=1e-3)
    assert "InconsistentVersionWarning" in result.output
    assert "model loaded" in result.output
    assert result.input_mode == "json-string"
    assert result.init_ms > 0 and result.run_ms > 0
    assert result.total_ms >= result.load_ms + result.init_ms + result.run_ms
    assert result.python == sys.executable
    assert result.python_version == sys.version.split()[0]
    assert "response: [11055.97" in str(result)
    assert not (tmp_path / "__pycache__").exists()


def test_undecorated_run_receives_the_body_as_a_string(tmp_path: Path) -> None:
    result = smoke_test_score_script(write(tmp_path, ECHO_SCRIPT), {"data": [1, 2]})
    assert result.response == {"type": "str", "raw": '{"data": [1, 2]}'}


def test_request_headers_are_passed(tmp_path: Path) -> None:
    script = "def init():\n    pass\ndef run(data, request_headers):\n    return request_headers\n"
    result = smoke_test_score_script(write(tmp_path, script), "[1]", headers={"X-Trace": "t1"})
    assert result.response == {"Content-Type": "application/json", "Content-Length": "3", "X-Trace": "t1"}


def test_input_schema_receives_fields_as_keyword_arguments(tmp_path: Path) -> None:
    script = """
    import numpy as np
    from inference_schema.schema_decorators import input_schema
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

    def init():
        pass

    @input_schema("data", NumpyParameterType(np.array([[1.0, 2.0]])))
    @input_schema("scale", StandardPythonParameterType(1.0))
    def run(data, scale=1.0):
        return {"type": type(data).__name__, "sums": (data * scale).sum(axis=1).tolist()}
    """
    path = write(tmp_path, script)
    result = smoke_test_score_script(path, {"data": [[1.0, 2.0], [3.0, 4.0]], "scale": 2.0})
    assert result.input_mode == "input-schema"
    assert result.response == {"type": "ndarray", "sums": [6.0, 14.0]}
    assert smoke_test_score_script(path, {"data": [[1.0, 1.0]]}).response["sums"] == [2.0]

    missing = failure(path, {"values": []})
    assert "A value is not provided for the 'data' parameter." in missing.message
    assert missing.hint == "The endpoint would answer HTTP 400."
    assert "POST body should be a JSON dictionary." in failure(path, [1, 2]).message


def test_init_failure_shows_the_users_traceback_only(tmp_path: Path) -> None:
    script = """
    import os

    def load():
        raise FileNotFoundError("no model at " + os.environ["AZUREML_MODEL_DIR"])

    def init():
        print("loading")
        load()

    def run(raw):
        return raw
    """
    error = failure(write(tmp_path, script), model_dir=tmp_path)
    assert error.message == f"score.py: init() raised FileNotFoundError: no model at {tmp_path}"
    assert error.hint and "the inference server exits when init() raises" in error.hint
    assert error.output.strip() == "loading"
    tb = error.user_traceback
    assert tb.startswith("Traceback (most recent call last):")
    assert f'File "{tmp_path / "score.py"}", line 9, in init' in tb
    assert "line 5, in load" in tb
    assert "_child" not in tb and "jupyter_mlep" not in tb and "importlib" not in tb
    assert "The script printed:\nloading" in str(error)


def test_import_failure(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "import not_a_module_anywhere\ndef init(): pass\ndef run(x): return x\n"))
    assert "importing the script raised ModuleNotFoundError" in error.message
    assert 'score.py", line 1, in <module>' in error.user_traceback
    assert "_child" not in error.user_traceback and "frozen" not in error.user_traceback


def test_run_failure(tmp_path: Path) -> None:
    script = "import json\ndef init():\n    pass\ndef run(raw):\n    return json.loads(raw)['data']\n"
    error = failure(write(tmp_path, script), {"rows": []})
    assert error.message == "score.py: run() raised KeyError: 'data'"
    assert error.hint and "HTTP 500" in error.hint
    assert "line 5, in run" in error.user_traceback and "_child" not in error.user_traceback


def test_chained_exception_frames_are_cut_too(tmp_path: Path) -> None:
    script = """
    def init():
        try:
            {}["model"]
        except KeyError as exc:
            raise RuntimeError("cannot load") from exc
    def run(raw):
        return raw
    """
    tb = failure(write(tmp_path, script)).user_traceback
    assert "KeyError: 'model'" in tb and "RuntimeError: cannot load" in tb
    assert "direct cause" in tb and "_child" not in tb


def test_result_that_is_not_json_serialisable(tmp_path: Path) -> None:
    script = "import numpy as np\ndef init():\n    pass\ndef run(raw):\n    return np.array([1.0, 2.0])\n"
    error = failure(write(tmp_path, script))
    assert "run() returned a numpy.ndarray, which the server cannot send as JSON" in error.message
    assert "Object of type ndarray is not JSON serializable" in error.message
    assert error.hint == "The endpoint would answer HTTP 500."


def test_contract_violation_found_at_start_up(tmp_path: Path) -> None:
    write(tmp_path, "def init(): pass\ndef run(*args): return 1\n", name="impl.py")
    error = failure(write(tmp_path, "from impl import init, run\n"))
    assert "run() cannot accept positional-only arguments, *args, or **kwargs." in error.message
    assert error.hint and "fail to start" in error.hint


def test_printed_output_is_captured_in_order(tmp_path: Path) -> None:
    script = """
    import sys, warnings
    def init():
        print("one")
        print("two", file=sys.stderr)
        warnings.warn("three")
    def run(raw):
        print("four")
        return 1
    """
    output = smoke_test_score_script(write(tmp_path, script), "{}").output
    lines = [line for line in output.splitlines() if not line.startswith(" ")]
    assert lines[0] == "one" and lines[1] == "two"
    assert "UserWarning: three" in lines[2]
    assert lines[-1] == "four"


def test_environment_matches_the_server(tmp_path: Path, model_1: Path) -> None:
    write(tmp_path, "VALUE = 42\n", name="helper.py")
    script = """
    import os, sys
    import helper
    def init():
        pass
    def run(raw):
        names = ["AZUREML_MODEL_DIR", "AZUREML_ENTRY_SCRIPT", "AML_APP_ROOT", "GREETING", "EMPTY"]
        return {"env": {n: os.environ.get(n) for n in names}, "cwd": os.getcwd(), "helper": helper.VALUE}
    """
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 42\n")
    result = smoke_test_score_script(
        write(folder, script), "{}", model_dir=model_1, env_vars={"GREETING": "a=b", "EMPTY": ""}
    )
    assert result.response == {
        "env": {
            "AZUREML_MODEL_DIR": str(model_1.resolve()),
            "AZUREML_ENTRY_SCRIPT": "score.py",
            "AML_APP_ROOT": str(folder),
            "GREETING": "a=b",
            "EMPTY": "",
        },
        "cwd": str(folder),
        "helper": 42,
    }


def test_timeout_kills_the_child_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = f"""
    import subprocess, sys, time
    def init():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print("waiting", flush=True)
        time.sleep(60)
    def run(raw):
        return raw
    """
    start = time.perf_counter()
    error = failure(write(tmp_path, script), timeout=2)
    assert time.perf_counter() - start < 10
    assert "did not finish within 2 s; it was still in init()" in error.message
    assert error.output.strip() == "waiting"
    grandchild = int(pid_file.read_text())
    for _ in range(50):
        if not _alive(grandchild):
            break
        time.sleep(0.1)
    assert not _alive(grandchild)


def test_keyboard_interrupt_kills_the_child(tmp_path: Path) -> None:
    """A parent interrupted while waiting (as a kernel is by 'Interrupt') leaves no process behind."""
    pid_file = tmp_path / "child.pid"
    script = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    driver = f"""
import signal, threading, os, sys
from jupyter_mlep.scoring import smoke_test_score_script
threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    smoke_test_score_script({str(write(tmp_path, script))!r}, "{{}}")
except KeyboardInterrupt:
    print("interrupted")
"""
    out = subprocess.run(
        [sys.executable, "-c", driver], capture_output=True, text=True, timeout=30, check=False
    )
    assert out.stdout.strip() == "interrupted", out.stderr
    assert not _alive(int(pid_file.read_text()))


def test_process_that_exits_without_a_result(tmp_path: Path) -> None:
    error = failure(
        write(tmp_path, "import os\ndef init():\n    os._exit(7)\ndef run(raw):\n    return raw\n")
    )
    assert "the test process exited with code 7 during init()" in error.message


def test_another_interpreter_can_be_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    code = tmp_path / "code"
    code.mkdir()
    result = smoke_test_score_script(write(code, ECHO_SCRIPT), "[]", python=python)
    assert result.python == str(python)
    monkeypatch.chdir(tmp_path)  # a relative interpreter path is relative to here, not to the script's folder
    assert smoke_test_score_script(code / "score.py", "[]", python="venv/bin/python").python == str(python)
    error = failure(write(tmp_path, MODEL_1_SCRIPT), python=python)
    assert "ModuleNotFoundError: No module named 'joblib'" in error.message


def test_missing_interpreter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Cannot start the Python interpreter /nonexistent/python"):
        smoke_test_score_script(write(tmp_path, ECHO_SCRIPT), "{}", python="/nonexistent/python")


def test_rawhttp_gets_a_flask_request(tmp_path: Path) -> None:
    script = """
    from azureml_inference_server_http.api.aml_request import rawhttp
    from azureml_inference_server_http.api.aml_response import AMLResponse

    def init():
        pass

    @rawhttp
    def run(request, request_headers):
        body = request.get_json()
        return AMLResponse({"method": request.method, "n": len(body["data"]), "ct": request_headers["Content-Type"]},
                           201, json_str=True)
    """
    result = smoke_test_score_script(write(tmp_path, script), {"data": [1, 2, 3]})
    assert result.input_mode == "rawhttp"
    assert (result.status_code, result.content_type) == (201, "application/json")
    assert result.response == {"method": "POST", "n": 3, "ct": "application/json"}
    assert "HTTP 201" in str(result)


def test_smoke_test_overhead_is_small(tmp_path: Path) -> None:
    path = write(tmp_path, ECHO_SCRIPT)
    results = [smoke_test_score_script(path, "{}") for _ in range(5)]
    overhead = sorted(r.overhead_ms for r in results)[len(results) // 2]
    assert overhead < 300


def test_check_and_test_together(tmp_path: Path, model_1: Path) -> None:
    messages: list[str] = []
    request = json.loads((model_1 / "sample-request.json").read_text())
    script = check_score_script(
        write(tmp_path, MODEL_1_SCRIPT), model_dir=model_1, request=request, progress=messages.append
    )
    assert isinstance(script.test, ScoreTestResult)
    assert script.test.response == pytest.approx([11055.977, 4503.080], abs=1e-3)
    assert messages and messages[0].startswith(f"Testing {tmp_path / 'score.py'}: init() then run(request)")
    text = str(script)
    assert "4 checks passed" in text and "test passed in" in text and "InconsistentVersionWarning" in text
    html = script._repr_html_()
    assert "test passed in" in html and "<details>" in html


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_missing_model_dir_is_pointed_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    with pytest.raises(ScoreTestError) as info:
        check_score_script(write(tmp_path, MODEL_1_SCRIPT), request="{}")
    assert "init() raised TypeError" in info.value.message
    assert info.value.hint and info.value.hint.endswith(
        "The script reads AZUREML_MODEL_DIR, which is not set: pass --model-dir DIR (model_dir=...)."
    )


def test_check_warnings_explain_a_failed_test(tmp_path: Path) -> None:
    script = """
    import numpy as np

    class Model:
        def predict(self, raw):
            return np.ones(2)

    def init():
        global model
        model = Model()

    def run(raw):
        result = model.predict(raw)
        return result
    """
    with pytest.raises(ScoreTestError) as info:
        check_score_script(write(tmp_path, script), request="{}")
    assert "run() returned a numpy.ndarray" in info.value.message
    assert info.value.hint
    assert (
        "The check also found:\n  warning: line 14: run() returns the result of .predict()" in info.value.hint
    )


def test_child_module_runs_on_older_pythons_and_imports_only_the_stdlib() -> None:
    """Deployment environments often use Python 3.8: the child must parse there and need nothing else."""
    import ast

    import jupyter_mlep.scoring._child as child

    source = Path(child.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__", "flask"}
