"""The tests' own support: one place for shared helpers, no test package importing another's conftest."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from support.samples import SCORE_BROKEN, SCORE_MODEL_1, SCORE_MODEL_1_SHORT, SCORE_MODEL_2, score_model_1
from support.waiting import unique

from jupyter_mlep.specs._compute import COMPUTE_NAME

TESTS = Path(__file__).resolve().parent
NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{2,31}$")  # an online endpoint name


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add("." * node.level + node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_test_module_imports_a_conftest_or_the_old_helpers() -> None:
    offenders = {
        str(path.relative_to(TESTS)): sorted(
            module
            for module in _imported_modules(path)
            if module.split(".")[-1] in ("conftest", "deploy_helpers") and not module.startswith(".")
        )
        for path in TESTS.rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_unique_names_never_repeat_and_are_endpoint_and_compute_names() -> None:
    names = [unique("ep") for _ in range(5000)]
    assert len(set(names)) == len(names)
    for rule in (NAME, COMPUTE_NAME):
        assert all(rule.match(name) for name in names), [n for n in names if not rule.match(n)][:3]


def test_the_sample_scripts_compile_and_say_who_answered() -> None:
    for script in (SCORE_MODEL_1, SCORE_MODEL_1_SHORT, SCORE_MODEL_2, SCORE_BROKEN, score_model_1(7)):
        compile(script, "score.py", "exec")
    assert '{"version": 7, "predictions": model.predict(data).tolist()}' in score_model_1(7)
    assert SCORE_MODEL_1_SHORT.splitlines()[5].lstrip().startswith("model = joblib.load(")
