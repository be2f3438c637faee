"""The verb registry and the front ends over it, without a server: one definition per verb, the
magic's docstring, ``--help`` and the README from it, ``$name`` expansion, and the front end's
rough edges that are caught before any request (usage, JSON, settings)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_mlep import SettingsError, UsageError
from jupyter_mlep.cli import main
from jupyter_mlep.scoring import jsonable
from jupyter_mlep.verbs import GROUPS, cheat_sheet, cli_text, expand_words, group
from jupyter_mlep.verbs._preview import PREVIEW_ITEMS, preview

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = group("endpoint")


def line(ip: Any, text: str) -> Any:
    return ip.run_line_magic("endpoint", text)


# --- one registry -------------------------------------------------------------------------------


def test_every_verb_module_declares_itself_once() -> None:
    for name in ENDPOINT.verbs:
        verb = ENDPOINT.verb(name)
        assert verb.name == name and verb.help and verb.examples
        assert all(example.lstrip("r= ").startswith("%endpoint " + name) for example in verb.examples)
    modules = {p.stem for p in (REPO / "jupyter_mlep" / "verbs" / "endpoint").glob("*.py")} - {"__init__"}
    assert modules == {name.replace("-", "_") for name in ENDPOINT.verbs}
    assert not (REPO / "jupyter_mlep" / "magics" / "endpoint").exists()


def test_docstring_help_and_cli_help_come_from_the_registry(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = ip.find_line_magic("endpoint").__doc__
    assert main(["endpoint", "--help"]) == 0
    cli_help = capsys.readouterr().out
    for verb in ENDPOINT.all():
        assert f"%endpoint {verb.name}" in doc and verb.help in doc
        assert verb.name in cli_help
        assert cli_text(verb.examples[0].split("  # ")[0]) in cli_help
    assert "%endpoint" not in cli_help


def test_readme_cheat_sheet_is_generated_from_the_registry() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `%endpoint`: deploy, invoke, move traffic\n\n", 1)[1]
    block = section[: section.index("```\n", 10) + 3]
    assert block == cheat_sheet(ENDPOINT)
    jobs = readme.split("### `%%job` and `%job`: training jobs\n", 1)[1].split("\n## ", 1)[0]
    assert cheat_sheet(group("job")) in jobs and group("job").verb("run").example in jobs


def test_cheat_sheet_runs_in_order() -> None:
    """The tour's rules: green takes no live traffic when it is mirrored to or deleted, and every
    endpoint it creates is deleted at the end."""
    lines = [ENDPOINT.verb(v).examples[i].split("  # ")[0] for v, i in ENDPOINT.tour]
    live: dict[str, int] = {}
    for text in lines:
        if " traffic my-endpoint " in text and "=" in text:
            live = {k: int(v) for k, v in (pair.split("=") for pair in text.split()[3:])}
        if "--mirror green=" in text or "delete my-endpoint --deployment green" in text:
            assert not live.get("green"), text
    created = {t.split()[2] for t in lines if " create " in t or (" deploy my-endpoint" in t)}
    deleted = {t.split()[2] for t in lines if " delete " in t and "--deployment" not in t}
    assert created <= deleted
    assert {v for v, _ in ENDPOINT.tour} >= set(ENDPOINT.verbs) - {"rollout", "migrate-v1"}  # need files


def test_a_second_group_is_one_registry_entry(
    ip: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from jupyter_mlep.magics import MlepMagics

    assert list(GROUPS) == ["endpoint", "job"] and GROUPS["endpoint"] is ENDPOINT
    monkeypatch.setitem(GROUPS, "demo", replace(ENDPOINT, name="demo", _cache={}))
    ip.register_magics(MlepMagics(shell=ip))
    assert ip.run_line_magic("demo", "") is None and "%demo VERB -h" in capsys.readouterr().out
    assert "%demo logs" in ip.find_line_magic("demo").__doc__
    with pytest.raises(UsageError, match="usage: %demo logs"):
        ip.run_cell_magic("demo", "logs x y --lines 0", "body")


@pytest.mark.parametrize(
    "code",
    [
        "import jupyter_mlep.commands, jupyter_mlep.commands._verbs, jupyter_mlep.cli",
        "from jupyter_mlep.cli import main\ntry:\n    main(['endpoint', '--help'])\nexcept SystemExit:\n    pass",
        "from jupyter_mlep.cli import _parser\n_parser().parse_args(['endpoint', 'invoke', 'x', '--data', '{}', '-o', 'json'])",
        "from jupyter_mlep.verbs import group\n[v.run for v in group('endpoint').all()]",
    ],
)
def test_the_command_line_imports_neither_ipython_nor_ipywidgets(code: str) -> None:
    check = code + "\nimport sys\nprint([m for m in ('IPython', 'ipywidgets') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- $name expansion ----------------------------------------------------------------------------


def test_expansion_rules() -> None:
    namespace = {"endpoint": "ep-1", "suffix": "x", "run_id": 7, "payload": {"a": 1}, "path": Path("/tmp/m")}
    words, objects = expand_words(
        [
            "$endpoint",
            "my-$suffix",
            "rec-{run_id}",
            "$payload",
            "$path",
            '{"a": "$b"}',
            "{{x}}",
            "$$5",
            "{a, b}",
        ],
        namespace,
    )
    assert words == ["ep-1", "my-x", "rec-7", "$payload", "/tmp/m", '{"a": "$b"}', "{x}", "$5", "{a, b}"]
    assert objects == {"$payload": {"a": 1}}
    for word in ("$nope", "a-$nope", "rec-{nope}"):
        with pytest.raises(UsageError, match="no variable named 'nope'"):
            expand_words([word], namespace)
    with pytest.raises(UsageError, match=r"--model \$nope: there is no variable"):
        expand_words(["--model", "$nope"], namespace)


def test_magic_expands_names_inside_words_and_keeps_objects(ip: Any) -> None:
    ip.user_ns.update(suffix="a", payload={"data": [1]})
    with pytest.raises(UsageError, match=r"\$payload holds a dict, but name takes text"):
        line(ip, "show $payload")
    with pytest.raises(UsageError, match="no variable named 'missing'"):
        line(ip, "show ep-{missing}")


# --- rough edges caught before any request ------------------------------------------------------


def test_bare_magic_lists_the_verbs(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert line(ip, "") is None
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in ENDPOINT.verbs)


def test_misspelled_flag_shows_the_verbs_usage_and_a_suggestion(ip: Any) -> None:
    with pytest.raises(UsageError) as caught:
        line(ip, "deploy my-endpoint blue --trafic 10")
    text = str(caught.value)
    assert "Did you mean --traffic?" in text and "usage: %endpoint deploy" in text


def test_unquoted_json_says_to_quote_it(ip: Any) -> None:
    with pytest.raises(UsageError, match="Quote the whole JSON"):
        line(ip, 'invoke my-endpoint --data {"data": [[1,2]]}')
    with pytest.raises(UsageError, match=r"--data is not valid JSON: .* line 1 column 2 .*\n.*Quote"):
        line(ip, "invoke my-endpoint --data {a:1}")


def test_invalid_json_in_the_cell_is_reported_with_its_position(ip: Any) -> None:
    with pytest.raises(UsageError, match=r"The cell body is not valid JSON: .* line 2 column 12"):
        ip.run_cell_magic("endpoint", "invoke my-endpoint", '{"data":\n  [[1, 2]],,\n}')


def test_arrays_in_payloads_are_converted_or_refused() -> None:
    assert jsonable({"data": np.arange(3).reshape(1, 3), "n": np.int64(2)}, "--data") == {
        "data": [[0, 1, 2]],
        "n": 2,
    }
    with pytest.raises(UsageError, match=r"holds a builtins\.set, which cannot be sent as JSON"):
        jsonable({"data": {1, 2}}, "--data")


def test_a_refused_payload_fails_before_any_request(ip: Any) -> None:
    ip.user_ns["payload"] = {"data": {1, 2}}
    with pytest.raises(UsageError, match="cannot be sent as JSON"):
        line(ip, "invoke my-endpoint --data $payload")


def test_negative_lines_are_refused_locally(ip: Any) -> None:
    with pytest.raises(UsageError, match="argument --lines: '-5' must be 1 or more"):
        line(ip, "logs my-endpoint blue --lines -5")


def test_comment_at_the_end_of_the_line_is_ignored(ip: Any) -> None:
    with pytest.raises(UsageError, match="must be 1 or more"):
        line(ip, "logs my-endpoint blue --lines 0   # a comment, as in the README")


def test_settings_are_validated_when_set(ip: Any) -> None:
    magics = ip.magics_manager.registry["MlepMagics"]
    for name, value in (("widgets", "fancy"), ("target", "cloud"), ("api_version", "latest")):
        ip.run_line_magic("config", f'MlepMagics.{name} = "{value}"')  # %config logs the error
        assert getattr(magics, name) is None
    from traitlets import TraitError

    with pytest.raises(TraitError, match="Invalid api-version 'latest'"):
        magics.api_version = "latest"
    with pytest.raises(TraitError, match="expected any of"):
        magics.widgets = "fancy"
    magics.widgets = "static"
    with pytest.raises(SettingsError, match="Unknown setting"):
        from jupyter_mlep.settings import validate_setting

        validate_setting("colour", "red")


def test_status_lists_every_setting_with_its_source(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    monkeypatch.setenv("MLEP_MAX_INSTANCES", "3")
    status = ip.run_line_magic("mlep", "status")
    text = repr(status)
    for name in ("target", "home", "api_version", "arm_url", "subscription_id", "resource_group"):
        assert name in text
    assert "MLEP_RUNTIME         process  (environment variable)" in text
    for variable in ("MLEP_INSTALLER", "MLEP_DOCKER_NETWORK", "MLEP_ENVS_DIR", "MLEP_WIDGETS"):
        assert variable in text
    assert status.status_payload()["kind"] == "settings"
    assert status.to_dict()["runtime"]["MLEP_RUNTIME"] == {"value": "process", "from": "environment variable"}
    assert status.to_dict()["runtime"]["MLEP_MAX_INSTANCES"] == {"value": "3", "from": "environment variable"}


def test_cli_status_lists_the_runtime_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    assert "MLEP_RUNTIME" in capsys.readouterr().out


def test_large_answers_are_previewed_and_kept_whole() -> None:
    body = [[i, i * 2] for i in range(10_000)]
    shown = preview(body)
    assert shown == body and isinstance(shown, list)
    text = shown.preview_text()
    assert text.count("\n") < PREVIEW_ITEMS + 6 and "10,000 items" in text and "kB of JSON" in text
    assert preview([1, 2]) == [1, 2] and type(preview([1, 2])) is list
    assert len(preview("x" * 100_000)) == 100_000


def test_large_answer_preview_is_what_ipython_shows(ip: Any) -> None:
    from IPython.lib.pretty import pretty

    ip.user_ns["r"] = preview({f"k{i}": i for i in range(1000)})
    assert "1,000 keys" in pretty(ip.user_ns["r"]) and len(pretty(ip.user_ns["r"])) < 2000


# --- the command line ---------------------------------------------------------------------------


def test_cli_help_has_no_rst_and_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    texts = []
    for argv in (["--help"], ["endpoint", "--help"], *(["endpoint", v, "--help"] for v in ENDPOINT.verbs)):
        assert main(argv) == 0
        texts.append(capsys.readouterr().out)
    assert not any("``" in text or re.search(r"`[^`\n]+`", text) for text in texts)
    deploy = texts[2 + ENDPOINT.verbs.index("deploy")]
    assert re.search(r"--instance-type SKU\s+the VM size", deploy)
    assert re.search(r"--instance-count N\s+how many instances", deploy)


def test_cli_common_options_after_the_verb_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_mlep.cli import _parser

    before = _parser().parse_args(["endpoint", "-o", "json", "--local", "list"])
    after = _parser().parse_args(["endpoint", "list", "--output", "json", "--local"])
    default = _parser().parse_args(["endpoint", "list"])
    assert (before.output, before.local) == (after.output, after.local) == ("json", True)
    assert (default.output, default.local) == ("table", False)
    assert main(["endpoint", "update", "x", "--trafic", "a=1"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean --traffic?" in err and "usage: jupyter-mlep endpoint update" in err
    assert main(["endpoint"]) == 0 and "Verbs:" in capsys.readouterr().out


def test_cli_hints_use_command_line_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoint", "invoke", "my-endpoint"]) == 2
    err = capsys.readouterr().err
    assert "jupyter-mlep endpoint invoke my-endpoint --request-file" in err and "%endpoint" not in err
    assert cli_text("(%endpoint logs ep blue), r = %endpoint invoke x") == (
        "(jupyter-mlep endpoint logs ep blue), jupyter-mlep endpoint invoke x"
    )


def test_invalid_json_on_the_command_line_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoint", "invoke", "x", "--data", '{"a": }', "-o", "json"]) == 2
    err = capsys.readouterr().err
    assert "--data is not valid JSON: Expecting value at line 1 column 7" in err and "Traceback" not in err


def test_load_ext_neither_imports_the_verbs_nor_builds_their_parsers() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'jupyter_mlep')\n"
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_mlep.verbs.endpoint')))\n"
        "doc = ip.find_line_magic('endpoint').__doc__\n"
        "print('%endpoint swagger' in doc and '%endpoint token' in doc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == ["[]", "True"]
