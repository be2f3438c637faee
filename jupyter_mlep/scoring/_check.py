"""Static check of a scoring script against the Azure ML inference server contract.

Offline and AST-only: the script is compiled, never imported. The rules are those of
``azureml-inference-server-http`` (``server/user_script.py``): ``init`` and ``run`` exist at
module level; ``run`` has no ``*args``, ``**kwargs`` or positional-only parameters and at least
one input besides ``request_headers``; ``@rawhttp`` and the inference-schema decorators are not
combined. Obvious mistakes (a model path that does not exist under the model folder, a model
kept in a local variable of ``init``, a v1-only API such as ``Model.get_model_path``) are
reported as warnings.
"""

from __future__ import annotations

import ast
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import ScoreScriptError
from ._hints import module_names, result_warnings, shared_state_warnings, target_names
from ._model_paths import describe_missing, find_model_dir_reads
from ._models import Finding, InputMode, Level, ScoreScript
from ._v1 import v1_checks, v1_findings

__all__ = ["analyze_source", "check_score_script_source"]

_SCHEMA_DECORATORS = {"input_schema", "output_schema"}
_BLOCKS = ("body", "orelse", "finalbody", "handlers")


@dataclass
class _Binding:
    kind: str  # "def", "async def", "class", "assign", "import"
    line: int
    node: ast.AST
    origin: str = ""


@dataclass
class _Report:
    checks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    input_mode: InputMode | None = None

    def add(self, level: Level, message: str, line: int | None = None) -> None:
        self.findings.append(Finding(level, message, line))


def check_score_script_source(source: str, path: Path, *, model_dir: Path | None = None) -> ScoreScript:
    """Check ``source`` (the text of ``path``); raise :class:`ScoreScriptError` listing every error."""
    report, reads_model_dir = analyze_source(source, path, model_dir=model_dir)
    errors = [f for f in report.findings if f.level == "error"]
    others = tuple(f for f in report.findings if f.level != "error")
    if errors:
        lines = [f"{path} breaks the Azure ML inference server contract:"]
        lines += [f"  {f}" for f in errors]
        if others:
            lines.append("Also:")
            lines += [f"  {f.level}: {f}" for f in others]
        raise ScoreScriptError("\n".join(lines))
    return ScoreScript(
        path=path,
        model_dir=model_dir,
        checks=tuple(report.checks),
        findings=others,
        input_mode=report.input_mode,
        reads_model_dir=reads_model_dir,
    )


def analyze_source(source: str, path: Path, *, model_dir: Path | None = None) -> tuple[_Report, bool]:
    """Compile and inspect ``source``; returns the report and whether it reads AZUREML_MODEL_DIR.

    A syntax error raises :class:`ScoreScriptError` at once (nothing else can be checked).
    """
    try:
        tree = ast.parse(source, filename=str(path))
        compile(tree, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
        raise ScoreScriptError(
            f"{path} does not compile:\n{detail}", hint="Fix the syntax error and check again."
        ) from None
    except ValueError as exc:  # e.g. null bytes in the source
        raise ScoreScriptError(f"{path} does not compile: {exc}") from None

    report = _Report(checks=["compiles"])
    bindings, aliases, star_imports = _module_bindings(tree)
    _check_init(bindings.get("init"), star_imports, report)
    run = bindings.get("run")
    _check_run(run, aliases, star_imports, report)
    init_binding = bindings.get("init")
    if (
        init_binding
        and run
        and isinstance(init_binding.node, ast.FunctionDef | ast.AsyncFunctionDef)
        and isinstance(run.node, ast.FunctionDef | ast.AsyncFunctionDef)
    ):
        module_level = module_names(tree, set(bindings))
        report.findings += shared_state_warnings(init_binding.node, run.node, module_level)
    if run and isinstance(run.node, ast.FunctionDef):
        report.findings += result_warnings(run.node)
    reads = find_model_dir_reads(tree)
    report.findings += v1_findings(tree, reads.joins)
    report.checks += v1_checks(tree)
    if model_dir is not None:
        for join in reads.joins:
            if (model_dir / join.relative).exists():
                report.checks.append(
                    f"AZUREML_MODEL_DIR/{join.relative} exists under {model_dir} (line {join.line})"
                )
            else:
                report.add("warning", describe_missing(join.relative, model_dir), join.line)
    return report, reads.any


def _module_bindings(tree: ast.Module) -> tuple[dict[str, _Binding], dict[str, str], list[str]]:
    """Last binding of each module-level name, the import aliases, and ``from x import *`` modules."""
    bindings: dict[str, _Binding] = {}
    aliases: dict[str, str] = {}
    stars: list[str] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.FunctionDef):
                bindings[node.name] = _Binding("def", node.lineno, node)
            elif isinstance(node, ast.AsyncFunctionDef):
                bindings[node.name] = _Binding("async def", node.lineno, node)
            elif isinstance(node, ast.ClassDef):
                bindings[node.name] = _Binding("class", node.lineno, node)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
                for alias in node.names:
                    if alias.name == "*":
                        stars.append(module)
                        continue
                    full = f"{module}.{alias.name}" if module else alias.name
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = full if alias.asname or module else alias.name.split(".")[0]
                    bindings[local] = _Binding("import", node.lineno, node, origin=full)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in target_names(target):
                        bindings[name] = _Binding("assign", node.lineno, node)
            else:
                for block in _BLOCKS:
                    children = getattr(node, block, None)
                    if isinstance(children, list):
                        for child in children:
                            if isinstance(child, ast.ExceptHandler):
                                visit(child.body)
                        visit([c for c in children if isinstance(c, ast.stmt)])

    visit(tree.body)
    return bindings, aliases, stars


def _missing(name: str, star_imports: list[str], report: _Report) -> None:
    if star_imports:
        report.add(
            "note",
            f"{name}() is not defined here; it may come from `from {star_imports[0]} import *`. "
            f"Test the script (--test) to be sure the inference server finds it.",
        )
        return
    example = "def init():\n    ..." if name == "init" else "def run(raw_data):\n    ..."
    what = (
        "calls init() once when the deployment starts (load the model there)"
        if name == "init"
        else "calls run() for every scoring request"
    )
    report.add(
        "error",
        f"{name}() is not defined at module level. The Azure ML inference server {what} and refuses "
        f"to start without it. Add:\n    {example.replace(chr(10), chr(10) + '    ')}",
    )


def _indirect(name: str, binding: _Binding, report: _Report) -> None:
    how = {"import": f"imported from {binding.origin}", "assign": "assigned at module level"}.get(
        binding.kind, f"defined by a {binding.kind} statement"
    )
    report.add(
        "note",
        f"{name} is {how}; its signature is checked only when the script is tested (--test).",
        binding.line,
    )


def _check_init(binding: _Binding | None, star_imports: list[str], report: _Report) -> None:
    if binding is None:
        _missing("init", star_imports, report)
        return
    node = binding.node
    if isinstance(node, ast.AsyncFunctionDef):
        report.add(
            "error",
            "init() is declared `async def`: the inference server calls init() without awaiting it, "
            "so its body would never run. Use a plain `def init():`.",
            binding.line,
        )
        return
    if not isinstance(node, ast.FunctionDef):
        report.checks.append("init is defined at module level")
        _indirect("init", binding, report)
        return
    required = _required_parameters(node.args)
    if required:
        report.add(
            "warning" if node.decorator_list else "error",
            f"init({', '.join(required)}) has required parameters, but the inference server calls init() "
            "with no arguments, so the deployment would fail to start. Read settings from environment "
            "variables (AZUREML_MODEL_DIR, --env-var) instead and define `def init():`.",
            binding.line,
        )
        return
    report.checks.append("init() is defined at module level and takes no arguments")


def _check_run(
    binding: _Binding | None, aliases: dict[str, str], star_imports: list[str], report: _Report
) -> None:
    if binding is None:
        _missing("run", star_imports, report)
        return
    node = binding.node
    if isinstance(node, ast.AsyncFunctionDef):
        report.add(
            "error",
            "run() is declared `async def`: the inference server calls run() without awaiting it and "
            "would try to send a coroutine back as JSON (HTTP 500). Use a plain `def run(...)`.",
            binding.line,
        )
        return
    if not isinstance(node, ast.FunctionDef):
        report.checks.append("run is defined at module level")
        _indirect("run", binding, report)
        return

    args = node.args
    line = binding.line
    refused = [f"{a.arg} (positional-only, before '/')" for a in args.posonlyargs]
    if args.vararg:
        refused.append(f"*{args.vararg.arg}")
    if args.kwarg:
        refused.append(f"**{args.kwarg.arg}")
    if refused:
        report.add(
            "error",
            f"run() declares {', '.join(refused)}: the inference server refuses positional-only parameters, "
            "*args and **kwargs at start-up. Give run() plain named parameters, e.g. `def run(raw_data):`.",
            line,
        )
    names = [a.arg for a in args.args] + [a.arg for a in args.kwonlyargs]
    inputs = [n for n in names if n != "request_headers"]
    headers = len(inputs) < len(names)
    if not inputs and not refused:
        other = ' other than "request_headers"' if headers else " for the input data"
        report.add(
            "error",
            f"run() takes no parameter{other}: the inference server refuses it at start-up. "
            "Add one, e.g. `def run(raw_data):`.",
            line,
        )
    if not inputs:
        return

    decorators = {_decorator_name(d, aliases): d for d in node.decorator_list}
    raw = "rawhttp" in decorators
    schema = bool(_SCHEMA_DECORATORS & decorators.keys())
    unknown = sorted(set(decorators) - _SCHEMA_DECORATORS - {"rawhttp"})
    if raw and schema:
        report.add(
            "error",
            "run() is decorated with both @rawhttp and @input_schema/@output_schema: the inference server "
            "refuses this combination at start-up. Keep @rawhttp (you parse the request yourself) or the "
            "schema decorators (the server parses JSON for you), not both.",
            line,
        )
        return
    if unknown:
        report.add(
            "note",
            f"run() is decorated with @{', @'.join(unknown)}; the check assumes the decorator keeps run()'s "
            "parameters. Test the script (--test) to be sure.",
            line,
        )

    required = _required_parameters(args, skip="request_headers")
    if schema:
        report.input_mode = "input-schema"
        _check_schema_names(node, aliases, set(inputs), report)
        report.checks.append(
            f"run({', '.join(inputs)}) is accepted by the inference server: with @input_schema/@output_schema "
            "the request body must be a JSON object whose fields are passed by name"
        )
    else:
        mode: InputMode = "rawhttp" if raw else "json-string"
        report.input_mode = mode
        extra = [n for n in required if n != inputs[0]]
        if extra:
            level: Level = "warning" if unknown else "error"
            passes = "the Flask request" if raw else "the request body"
            report.add(
                level,
                f"run() requires {', '.join(extra)} besides {inputs[0]}, but the inference server passes only "
                f"{passes} (as {inputs[0]}), so every request would fail with HTTP 500. Give "
                f"{', '.join(extra)} a default, or decorate run() with @input_schema to receive JSON fields "
                "by name.",
                line,
            )
        else:
            what = "the Flask request object (@rawhttp)" if raw else "the request body as a string"
            report.checks.append(
                f"run({inputs[0]}) is accepted by the inference server: {inputs[0]} receives {what}"
            )
    if headers:
        report.checks.append("run() receives the request headers as request_headers")


def _check_schema_names(
    node: ast.FunctionDef, aliases: dict[str, str], inputs: set[str], report: _Report
) -> None:
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call) or _decorator_name(decorator, aliases) != "input_schema":
            continue
        name_node = decorator.args[0] if decorator.args else _keyword(decorator, "param_name")
        optional = _keyword(decorator, "optional")
        if optional is not None and not (isinstance(optional, ast.Constant) and not optional.value):
            continue
        if (
            isinstance(name_node, ast.Constant)
            and isinstance(name_node.value, str)
            and name_node.value not in inputs
        ):
            report.add(
                "error",
                f"@input_schema({name_node.value!r}, ...) names no parameter of run({', '.join(sorted(inputs))}): "
                "inference-schema fails every request with 'provided param_name is not in the decorated "
                "function'. Rename the parameter or the schema name so they match.",
                decorator.lineno,
            )


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _decorator_name(node: ast.expr, aliases: dict[str, str]) -> str:
    """The last component of a decorator's resolved name: ``@aml_request.rawhttp`` → ``rawhttp``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id).rsplit(".", 1)[-1]
    return "<expression>"


def _required_parameters(args: ast.arguments, skip: str = "") -> list[str]:
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    required = [a.arg for i, a in enumerate(positional) if i < first_default]
    required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    return [name for name in required if name != skip]
