"""``%%score_script`` in a real InteractiveShell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from support.samples import SCORE_MODEL_1_SHORT

from jupyter_mlep import ScoreScriptError, ScoreTestError, UsageError
from jupyter_mlep.scoring import ScoreScript

GOOD = """\
import json
import os

def init():
    global scale
    scale = float(os.environ.get("SCALE", "1"))

def run(raw):
    return [x * scale for x in json.loads(raw)["data"]]
"""

BROKEN = "def init():\n    pass\n\ndef run(*args):\n    return 1\n"


def test_writes_the_file_and_returns_the_checked_script(ip, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    script = ip.run_cell_magic("score_script", "", GOOD)
    assert (tmp_path / "score.py").read_text() == GOOD
    assert capsys.readouterr().out == "Writing score.py\n"
    assert isinstance(script, ScoreScript) and script.checked and script.test is None
    assert script.path == Path("score.py")

    ip.run_cell_magic("score_script", "", GOOD)
    assert capsys.readouterr().out == "Overwriting score.py\n"


def test_path_with_new_folders(ip, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ip.run_cell_magic("score_script", "src/online/my_score.py", GOOD)
    assert (tmp_path / "src" / "online" / "my_score.py").read_text() == GOOD
    assert capsys.readouterr().out == "Writing src/online/my_score.py\n"


def test_broken_script_raises_from_the_magic(ip, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScoreScriptError, match=r"run\(\) declares \*args"):
        ip.run_cell_magic("score_script", "", BROKEN)
    assert (tmp_path / "score.py").read_text() == BROKEN  # written like %%writefile, then checked


def test_broken_script_fails_the_cell_with_a_short_message(ip) -> None:  # type: ignore[no-untyped-def]
    result = ip.run_cell(f"%%score_script\n{BROKEN}")
    assert isinstance(result.error_in_exec, ScoreScriptError)
    rendered = result.error_in_exec._render_traceback_()
    assert rendered[0].startswith("ScoreScriptError: score.py breaks the Azure ML inference server contract:")


def test_syntax_error_in_a_cell(ip) -> None:  # type: ignore[no-untyped-def]
    result = ip.run_cell("%%score_script\ndef init():\n    pass\ndef run(x)\n    return x\n")
    message = str(result.error_in_exec)
    assert 'score.py", line 3' in message and "    def run(x)\n" in message and "^" in message


def test_test_with_a_variable(ip, capsys) -> None:  # type: ignore[no-untyped-def]
    ip.user_ns["payload"] = {"data": [1, 2]}
    script = ip.run_cell_magic("score_script", "--test $payload --env-var SCALE=10", GOOD)
    assert script.test.response == [10.0, 20.0]
    out = capsys.readouterr().out
    assert "Writing score.py\nTesting score.py: init() then run(request) in a fresh process..." in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"data": [3]}', [3.0]),
        (b'{"data": [4]}', [4.0]),
        ({"data": np.array([5])}, [5.0]),  # arrays are converted (jupyter_mlep.scoring.jsonable)
        ([1], "list indices must be integers or slices, not str"),
    ],
)
def test_variable_kinds(ip, value: object, expected: object) -> None:  # type: ignore[no-untyped-def]
    ip.user_ns["req"] = value
    if isinstance(expected, str):
        with pytest.raises(ScoreTestError, match=expected):
            ip.run_cell_magic("score_script", "--test $req", GOOD)
    else:
        assert ip.run_cell_magic("score_script", "--test $req", GOOD).test.response == expected


ECHO = "def init():\n    pass\n\ndef run(raw):\n    return {'got': raw}\n"


def test_a_string_variable_is_sent_as_it_is(ip, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "plain words").write_text("a file's content")
    ip.user_ns["req"] = "plain words"  # neither JSON nor read as the path it happens to name
    assert ip.run_cell_magic("score_script", "--test $req", ECHO).test.response == {"got": "plain words"}


def test_test_with_a_file_and_model_dir(ip, model_1: Path) -> None:  # type: ignore[no-untyped-def]
    line = f"--model-dir {model_1} --test {model_1 / 'sample-request.json'}"
    script = ip.run_cell_magic("score_script", line, SCORE_MODEL_1_SHORT)
    assert script.test.response == pytest.approx([11055.977, 4503.080], abs=1e-3)
    assert "InconsistentVersionWarning" in script.test.output
    assert script.model_dir == model_1.resolve()


def test_paths_from_notebook_variables(ip, tmp_path: Path, model_1: Path) -> None:  # type: ignore[no-untyped-def]
    """Parameterised notebooks pass paths as $variables (IPython's own expansion is off)."""
    ip.user_ns.update(script_path=str(tmp_path / "sub" / "score.py"), model_dir=str(model_1))
    script = ip.run_cell_magic("score_script", "$script_path --model-dir $model_dir", SCORE_MODEL_1_SHORT)
    assert (tmp_path / "sub" / "score.py").read_text() == SCORE_MODEL_1_SHORT
    assert script.model_dir == model_1.resolve()
    with pytest.raises(UsageError, match="--model-dir \\$nowhere: there is no variable named 'nowhere'"):
        ip.run_cell_magic("score_script", "--model-dir $nowhere", SCORE_MODEL_1_SHORT)


def test_test_with_literal_json(ip) -> None:  # type: ignore[no-untyped-def]
    script = ip.run_cell_magic("score_script", """--test '{"data": [5, 6]}'""", GOOD)
    assert script.test.response == [5.0, 6.0]


def test_failing_test_raises_with_the_users_traceback(ip) -> None:  # type: ignore[no-untyped-def]
    result = ip.run_cell("""%%score_script --test '{"rows": []}'\n""" + GOOD)
    error = result.error_in_exec
    assert isinstance(error, ScoreTestError)
    assert error.message == "score.py: run() raised KeyError: 'data'"
    rendered = "\n".join(error._render_traceback_())
    assert 'score.py", line 9, in run' in rendered and "_child" not in rendered


def test_no_check_only_writes_and_tests(ip, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    script = ip.run_cell_magic("score_script", "--no-check", BROKEN)
    assert script.checked is False and script.checks == ()
    assert str(script) == "score.py: not checked (--no-check)"
    assert (tmp_path / "score.py").exists()
    with pytest.raises(ScoreTestError, match=r"run\(\) cannot accept positional-only arguments, \*args"):
        ip.run_cell_magic("score_script", "--no-check --test []", BROKEN)


def test_returned_object_is_displayed_concisely(ip, capsys) -> None:  # type: ignore[no-untyped-def]
    ip.run_cell("%%score_script\n" + GOOD, store_history=True)
    out = capsys.readouterr().out
    assert "Writing score.py" in out and "score.py: 3 checks passed" in out
    assert "<ScoreScript" not in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--env-var NOEQUALS", "--env-var 'NOEQUALS' is not of the form NAME=VALUE"),
        ("--env-var =x", "is not of the form NAME=VALUE"),
        ("--bogus", "unrecognized arguments: --bogus"),
        ("--timeout 0", "must be more than 0 seconds"),
        ("--test $nothing", "there is no variable named 'nothing'"),
        ("--test missing.json", "no such file, and not valid JSON either"),
        ("--test '{\"data\": [1,'", "the literal request is not valid JSON"),
        ('--test \'{"data"', "cannot split the line"),
        ("--model-dir /nonexistent/folder", "The model folder /nonexistent/folder does not exist"),
    ],
)
def test_usage_errors(ip, tmp_path: Path, line: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match=None) as info:
        ip.run_cell_magic("score_script", line, GOOD)
    assert message in str(info.value)
    assert not (tmp_path / "score.py").exists()  # argument mistakes change nothing


def test_help_returns_quietly(ip, capsys) -> None:  # type: ignore[no-untyped-def]
    assert ip.run_cell_magic("score_script", "--help", GOOD) is None
    out = capsys.readouterr().out
    assert "usage: %%score_script [-h] [--model-dir DIR] [--test REQUEST] [--no-check]" in out


def test_dollar_is_not_expanded_by_ipython(ip) -> None:  # type: ignore[no-untyped-def]
    ip.user_ns["payload"] = '{"data": [7]}'
    ip.user_ns["other"] = "ignored"
    script = ip.run_cell_magic("score_script", "--test $payload", GOOD)
    assert script.test.response == [7.0]


def test_extension_load_does_not_import_the_scoring_package() -> None:
    import subprocess

    code = (
        "import sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'jupyter_mlep')\n"
        "import json\n"
        "print(json.dumps([m for m in sys.modules if m.startswith(('jupyter_mlep.scoring', 'jupyter_mlep.magics.score'))]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
