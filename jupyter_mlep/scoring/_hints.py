"""Warnings for likely mistakes that the inference server would only reveal at request time.

- ``init()`` keeps the model in a local variable that ``run()`` then reads as a global;
- ``run()`` returns a prediction array as is (numpy arrays are not JSON-serialisable).
"""

from __future__ import annotations

import ast
import builtins

from ._models import Finding

__all__ = ["module_names", "result_warnings", "shared_state_warnings", "target_names"]

_RESULT_METHODS = {"predict", "predict_proba", "predict_log_proba", "decision_function", "transform"}


def target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in target_names(element)]
    return []


def module_names(tree: ast.Module, bound: set[str]) -> set[str]:
    """Every name in ``bound`` (bound at module level), plus those declared ``global`` in some function."""
    names = set(bound)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            names.update(node.names)
    return names


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.comprehension)


def _function_scope(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[set[str], set[str]]:
    """Names a function binds locally (parameters included) and names it (or a nested scope) reads."""
    stores: set[str] = set()
    loads: set[str] = set()
    declared: set[str] = set()
    arguments = func.args
    for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs:
        stores.add(arg.arg)
    for star in (arguments.vararg, arguments.kwarg):
        if star is not None:
            stores.add(star.arg)

    def visit(node: ast.AST, nested: bool) -> None:
        if isinstance(node, ast.Global | ast.Nonlocal) and not nested:
            declared.update(node.names)
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loads.add(node.id)
            elif not nested:
                stores.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom) and not nested:
            stores.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not nested:
            stores.add(node.name)
        inner = nested or isinstance(node, _SCOPES)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    for statement in func.body:
        visit(statement, False)
    return stores - declared, loads


def shared_state_warnings(
    init: ast.FunctionDef | ast.AsyncFunctionDef,
    run: ast.FunctionDef | ast.AsyncFunctionDef,
    module_level: set[str],
) -> list[Finding]:
    """Warn when init() keeps in a local variable what run() reads as a global (the classic NameError)."""
    init_locals, _ = _function_scope(init)
    run_locals, run_loads = _function_scope(run)
    findings = []
    for name in sorted((init_locals & run_loads) - run_locals - set(dir(builtins))):
        consequence = (
            f"the module-level {name} that run() reads stays unchanged"
            if name in module_level
            else f"run() fails with NameError: name '{name}' is not defined"
        )
        findings.append(
            Finding(
                "warning",
                f"init() assigns {name} as a local variable, so {consequence}. "
                f"Add `global {name}` as the first line of init().",
                init.lineno,
            )
        )
    return findings


def result_warnings(run: ast.FunctionDef) -> list[Finding]:
    """Warn when run() returns a prediction array as is (numpy arrays are not JSON-serialisable)."""
    predicted: dict[str, str] = {}
    findings = []
    for node in ast.walk(run):
        if isinstance(node, ast.Assign):
            method = _result_method(node.value)
            for target in node.targets:
                for name in target_names(target):
                    if method:
                        predicted[name] = method
                    else:
                        predicted.pop(name, None)
    for node in ast.walk(run):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        method = _result_method(node.value)
        if method is None and isinstance(node.value, ast.Name):
            method = predicted.get(node.value.id)
        if method:
            findings.append(
                Finding(
                    "warning",
                    f"run() returns the result of .{method}() as is. A numpy array is not JSON-serialisable, "
                    f"so the endpoint would answer HTTP 500: return .{method}(...).tolist() instead.",
                    node.lineno,
                )
            )
    return findings


def _result_method(node: ast.expr) -> str | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _RESULT_METHODS
    ):
        return node.func.attr
    return None
