"""The static scoring-script check: each rule of the inference server contract, hints, and good scripts."""

from __future__ import annotations

import statistics
import textwrap
import time
from pathlib import Path

import pytest

from jupyter_mlep import ScoreScriptError, UsageError
from jupyter_mlep.scoring import ScoreScript, check_score_script

MODEL_1_SCRIPT = """
import json
import os

import joblib
import numpy as np


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
"""


def write(folder: Path, source: str, name: str = "score.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def check(folder: Path, source: str, **kwargs: object) -> ScoreScript:
    return check_score_script(write(folder, source), **kwargs)  # type: ignore[arg-type]


def error_of(folder: Path, source: str, **kwargs: object) -> str:
    with pytest.raises(ScoreScriptError) as info:
        check(folder, source, **kwargs)
    return str(info.value)


# --- good scripts ---------------------------------------------------------------------------------


def test_plain_script_passes(tmp_path: Path, model_1: Path) -> None:
    script = check(tmp_path, MODEL_1_SCRIPT, model_dir=model_1)
    assert script.checked and script.findings == ()
    assert script.input_mode == "json-string"
    assert "compiles" in script.checks
    assert any("raw_data receives the request body as a string" in c for c in script.checks)
    assert any("AZUREML_MODEL_DIR/model/sklearn_regression_model.pkl exists" in c for c in script.checks)
    assert script.reads_model_dir and script.test is None


def test_request_headers_is_accepted(tmp_path: Path) -> None:
    script = check(tmp_path, "def init():\n    pass\n\ndef run(data, request_headers):\n    return data\n")
    assert "run() receives the request headers as request_headers" in script.checks
    assert script.findings == ()


def test_input_schema_script_passes(tmp_path: Path) -> None:
    script = check(
        tmp_path,
        """
        import numpy as np
        from inference_schema.schema_decorators import input_schema, output_schema
        from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
        from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

        def init():
            pass

        @input_schema("data", NumpyParameterType(np.array([[1.0, 2.0]])))
        @input_schema("scale", StandardPythonParameterType(1.0))
        @output_schema(StandardPythonParameterType([1.0]))
        def run(data, scale=1.0):
            return (data * scale).sum(axis=1).tolist()
        """,
    )
    assert script.input_mode == "input-schema"
    assert script.findings == ()


def test_rawhttp_script_passes(tmp_path: Path) -> None:
    script = check(
        tmp_path,
        """
        from azureml_inference_server_http.api.aml_request import rawhttp
        from azureml_inference_server_http.api.aml_response import AMLResponse

        def init():
            pass

        @rawhttp
        def run(request):
            return AMLResponse(request.get_data(), 200)
        """,
    )
    assert script.input_mode == "rawhttp"
    assert any("the Flask request object (@rawhttp)" in c for c in script.checks)


def test_old_contrib_rawhttp_with_alias_is_recognised(tmp_path: Path) -> None:
    script = check(
        tmp_path,
        """
        from azureml.contrib.services import aml_request as req

        def init():
            pass

        @req.rawhttp
        def run(request):
            return request.method
        """,
    )
    assert script.input_mode == "rawhttp"


def test_init_and_run_by_import_get_a_note(tmp_path: Path) -> None:
    script = check(tmp_path, "from impl import init\nfrom impl import predict as run\n")
    assert [f.level for f in script.findings] == ["note", "note"]
    assert "run is imported from impl.predict" in str(script.findings[1])
    assert script.findings[1].line == 2


def test_init_by_assignment_gets_a_note(tmp_path: Path) -> None:
    script = check(tmp_path, "def setup():\n    pass\n\ninit = setup\n\ndef run(data):\n    return data\n")
    assert "init is assigned at module level" in str(script.findings[0])


def test_definitions_inside_module_level_if_count(tmp_path: Path) -> None:
    source = "import sys\nif sys.version_info >= (3,):\n    def init():\n        pass\n    def run(d):\n        return d\n"
    assert check(tmp_path, source).findings == ()


# --- contract errors ------------------------------------------------------------------------------


def test_syntax_error_shows_file_line_and_caret(tmp_path: Path) -> None:
    message = error_of(tmp_path, "def init():\n    pass\n\ndef run(data)\n    return data\n")
    assert "score.py does not compile" in message
    assert 'score.py", line 4' in message
    assert "    def run(data)\n" in message
    assert "^" in message.split("def run(data)\n", 1)[1].splitlines()[0]
    assert "SyntaxError: expected ':'" in message
    assert "jupyter_mlep" not in message and "Traceback" not in message


def test_return_outside_function_is_caught_by_compile(tmp_path: Path) -> None:
    message = error_of(tmp_path, "return 1\n")
    assert "'return' outside function" in message


def test_missing_init_and_run_are_both_listed(tmp_path: Path) -> None:
    message = error_of(tmp_path, "import os\n")
    assert "init() is not defined at module level" in message
    assert "run() is not defined at module level" in message
    assert "def run(raw_data):" in message


def test_run_inside_a_class_is_not_module_level(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, "def init():\n    pass\n\nclass Model:\n    def run(self, data):\n        return data\n"
    )
    assert "run() is not defined at module level" in message


def test_star_import_makes_missing_functions_a_note(tmp_path: Path) -> None:
    script = check(tmp_path, "from impl import *\n")
    assert all(f.level == "note" for f in script.findings)
    assert "from impl import *" in str(script.findings[0])


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("run(*args)", "run() declares *args"),
        ("run(data, **kwargs)", "run() declares **kwargs"),
        ("run(data, /)", "data (positional-only, before '/')"),
    ],
)
def test_run_parameter_kinds_refused_by_the_server(tmp_path: Path, signature: str, expected: str) -> None:
    message = error_of(tmp_path, f"def init():\n    pass\n\ndef {signature}:\n    return 1\n")
    assert expected in message
    assert "refuses positional-only parameters, *args and **kwargs at start-up" in message
    assert "line 4:" in message


def test_run_without_input_parameter(tmp_path: Path) -> None:
    message = error_of(tmp_path, "def init():\n    pass\n\ndef run():\n    return 1\n")
    assert "run() takes no parameter for the input data" in message


def test_run_with_only_request_headers(tmp_path: Path) -> None:
    message = error_of(tmp_path, "def init():\n    pass\n\ndef run(request_headers):\n    return 1\n")
    assert 'run() takes no parameter other than "request_headers"' in message


def test_rawhttp_with_input_schema_is_refused(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        from azureml_inference_server_http.api.aml_request import rawhttp
        from inference_schema.schema_decorators import input_schema

        def init():
            pass

        @rawhttp
        @input_schema("data", None)
        def run(data):
            return 1
        """,
    )
    assert "both @rawhttp and @input_schema/@output_schema" in message


def test_two_required_parameters_without_schema(tmp_path: Path) -> None:
    message = error_of(tmp_path, "def init():\n    pass\n\ndef run(data, threshold):\n    return data\n")
    assert "run() requires threshold besides data" in message
    assert "decorate run() with @input_schema" in message


def test_extra_parameter_with_default_is_fine(tmp_path: Path) -> None:
    assert (
        check(tmp_path, "def init():\n    pass\n\ndef run(data, threshold=0.5):\n    return data\n").findings
        == ()
    )


def test_input_schema_name_must_match_a_parameter(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        from inference_schema.schema_decorators import input_schema

        def init():
            pass

        @input_schema("inputs", None)
        def run(data):
            return data
        """,
    )
    assert "@input_schema('inputs', ...) names no parameter of run(data)" in message


def test_init_with_required_parameter(tmp_path: Path) -> None:
    message = error_of(tmp_path, "def init(model_path):\n    pass\n\ndef run(data):\n    return data\n")
    assert "init(model_path) has required parameters" in message
    assert "calls init() with no arguments" in message


def test_async_functions_are_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "async def init():\n    pass\n\nasync def run(data):\n    return data\n")
    assert "init() is declared `async def`" in message
    assert "run() is declared `async def`" in message


def test_errors_and_warnings_are_listed_together(tmp_path: Path, model_1: Path) -> None:
    message = error_of(
        tmp_path,
        """
        import os
        def init():
            global model
            model = open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "missing.pkl"))
        def run(*args):
            return 1
        """,
        model_dir=model_1,
    )
    assert "run() declares *args" in message
    assert "Also:\n  warning: line 5: AZUREML_MODEL_DIR/missing.pkl does not exist" in message


# --- hints ----------------------------------------------------------------------------------------


def test_wrong_model_path_lists_what_exists(tmp_path: Path, model_1: Path) -> None:
    source = MODEL_1_SCRIPT.replace("model/sklearn_regression_model.pkl", "model/model.pkl")
    script = check(tmp_path, source, model_dir=model_1)
    [warning] = script.warnings
    assert warning.line == 11
    assert "AZUREML_MODEL_DIR/model/model.pkl does not exist under the model folder" in warning.message
    assert "It contains:" in warning.message
    assert "model/sklearn_regression_model.pkl" in warning.message


def test_model_path_with_the_file_elsewhere_suggests_it(tmp_path: Path, model_1: Path) -> None:
    source = MODEL_1_SCRIPT.replace("model/sklearn_regression_model.pkl", "sklearn_regression_model.pkl")
    [warning] = check(tmp_path, source, model_dir=model_1).warnings
    assert "Did you mean 'model/sklearn_regression_model.pkl'?" in warning.message


def test_model_dir_pointing_at_the_model_folder_itself(tmp_path: Path, model_1: Path) -> None:
    [warning] = check(tmp_path, MODEL_1_SCRIPT, model_dir=model_1 / "model").warnings
    assert "$AZUREML_MODEL_DIR/<folder name>/" in warning.message
    assert f"use --model-dir {model_1}" in warning.message


@pytest.mark.parametrize(
    "expression",
    [
        'os.environ["AZUREML_MODEL_DIR"] + "/model/x.pkl"',
        'Path(os.environ.get("AZUREML_MODEL_DIR")) / "model" / "x.pkl"',
        "f\"{os.getenv('AZUREML_MODEL_DIR')}/model/x.pkl\"",
        'os.path.join(base, "model", "x.pkl")',
    ],
)
def test_model_path_forms_are_recognised(tmp_path: Path, model_1: Path, expression: str) -> None:
    source = f"""
    import os
    from pathlib import Path
    base = os.getenv("AZUREML_MODEL_DIR")
    def init():
        global path
        path = {expression}
    def run(data):
        return path
    """
    [warning] = check(tmp_path, source, model_dir=model_1).warnings
    assert "AZUREML_MODEL_DIR/model/x.pkl does not exist" in warning.message


def test_model_paths_are_not_checked_without_model_dir(tmp_path: Path) -> None:
    script = check(tmp_path, MODEL_1_SCRIPT.replace("sklearn_regression_model", "nothing"))
    assert script.findings == () and script.reads_model_dir


def test_model_kept_in_a_local_variable_of_init(tmp_path: Path) -> None:
    source = """
    import joblib
    def init():
        model = joblib.load("m.pkl")
    def run(data):
        return model.predict(data).tolist()
    """
    [warning] = check(tmp_path, source).warnings
    assert "init() assigns model as a local variable" in warning.message
    assert "NameError" in warning.message and "global model" in warning.message


def test_local_shadowing_a_module_level_name(tmp_path: Path) -> None:
    source = "model = None\ndef init():\n    model = 1\ndef run(data):\n    return model\n"
    [warning] = check(tmp_path, source).warnings
    assert "the module-level model that run() reads stays unchanged" in warning.message


def test_returning_a_prediction_array(tmp_path: Path) -> None:
    source = "def init():\n    pass\ndef run(data):\n    result = model.predict(data)\n    return result\n"
    [warning] = check(tmp_path, source).warnings
    assert "run() returns the result of .predict() as is" in warning.message
    assert warning.line == 5


# --- arguments and speed --------------------------------------------------------------------------


def test_missing_script(tmp_path: Path) -> None:
    with pytest.raises(ScoreScriptError, match=r"The scoring script .*nope\.py does not exist"):
        check_score_script(tmp_path / "nope.py")


def test_model_dir_must_be_a_folder(tmp_path: Path, model_1: Path) -> None:
    path = write(tmp_path, MODEL_1_SCRIPT)
    with pytest.raises(UsageError, match="does not exist"):
        check_score_script(path, model_dir=tmp_path / "missing")
    with pytest.raises(UsageError, match="is a file") as info:
        check_score_script(path, model_dir=model_1 / "model" / "sklearn_regression_model.pkl")
    assert f"--model-dir {model_1 / 'model'}" in str(info.value)


def test_renderings_are_escaped_and_concise(tmp_path: Path, model_1: Path) -> None:
    source = 'import os\ndef init():\n    open(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "<x>.pkl"))\n'
    script = check(tmp_path, source + "def run(data):\n    return data\n", model_dir=model_1)
    html = script._repr_html_()
    assert "AZUREML_MODEL_DIR/&lt;x&gt;.pkl does not exist" in html and "<x>" not in html
    assert "AZUREML_MODEL_DIR/<x>.pkl does not exist" in str(script)
    assert repr(script).startswith("<ScoreScript ") and "findings=1" in repr(script)
    assert str(script).splitlines()[0].endswith("score.py: 3 checks passed, 1 warning")


def test_check_is_fast(tmp_path: Path, model_1: Path) -> None:
    path = write(tmp_path, MODEL_1_SCRIPT * 5)  # a longer, realistic script
    times = []
    for _ in range(7):
        start = time.perf_counter()
        check_score_script(path, model_dir=model_1)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.1


# --- agreement with the real inference server -----------------------------------------------------

_SCHEMA_IMPORTS = """
from inference_schema.schema_decorators import input_schema, output_schema
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType as T
"""
_RAW_IMPORT = "from azureml_inference_server_http.api.aml_request import rawhttp\n"
_SERVER_CASES = {
    "plain": "def run(data):\n    return data\n",
    "headers": "def run(data, request_headers):\n    return data\n",
    "keyword-only": "def run(*, data):\n    return data\n",
    "args": "def run(*args):\n    return 1\n",
    "kwargs": "def run(data, **kwargs):\n    return 1\n",
    "positional-only": "def run(data, /):\n    return 1\n",
    "no-input": "def run():\n    return 1\n",
    "only-headers": "def run(request_headers):\n    return 1\n",
    "rawhttp": _RAW_IMPORT + "@rawhttp\ndef run(request):\n    return 1\n",
    "input-schema": _SCHEMA_IMPORTS + "@input_schema('data', T([1]))\ndef run(data):\n    return data\n",
    "output-schema-only": _SCHEMA_IMPORTS + "@output_schema(T([1]))\ndef run(data):\n    return data\n",
    "rawhttp-and-schema": _SCHEMA_IMPORTS
    + _RAW_IMPORT
    + "@rawhttp\n@input_schema('d', T([1]))\ndef run(d):\n    return d\n",
}
_PARSERS = {"JsonStringInput": "json-string", "ObjectInput": "input-schema", "RawRequestInput": "rawhttp"}
_LOAD = """
import sys
from azureml_inference_server_http.server.user_script import UserScript, UserScriptError
try:
    script = UserScript("score.py")
    script.load_script(".")
except UserScriptError as exc:
    print("refused:", exc)
else:
    print("accepted:", type(script.input_parser).__name__)
"""


@pytest.mark.parametrize("case", sorted(_SERVER_CASES))
def test_check_agrees_with_the_inference_server(tmp_path: Path, case: str) -> None:
    """The check refuses what azureml-inference-server-http refuses at start-up, and picks the same input mode."""
    import subprocess
    import sys

    path = write(tmp_path, "def init():\n    pass\n" + _SERVER_CASES[case])
    server = subprocess.run(
        [sys.executable, "-c", _LOAD], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    verdict, _, detail = server.stdout.strip().partition(": ")
    try:
        script = check_score_script(path)
    except ScoreScriptError:
        assert verdict == "refused", server.stdout + server.stderr
    else:
        assert verdict == "accepted", server.stdout + server.stderr
        assert script.input_mode == _PARSERS[detail]
