"""Hints for scoring scripts written for Azure ML v1 (``azureml-core``) that a v2 deployment breaks.

Each v1-only pattern is reported once, on its first line, with what replaces it in v2:

- ``azureml.core`` imports (the v1 SDK is not installed in v2 inference environments);
- ``Model.get_model_path(...)`` (v2 mounts the deployment's one model at ``$AZUREML_MODEL_DIR``);
- ``AZUREML_MODEL_DIR`` joined with the v1 layout ``<model name>/<version>/...`` (v1 used it when a
  service had several models; v2 mounts the registered folder without name and version).

``inference_schema`` decorators and ``@rawhttp`` (also imported from v1's
``azureml.contrib.services``, which the inference server maps to its own module) keep working:
they are noted as checks, not findings.
"""

from __future__ import annotations

import ast

from ._model_paths import ModelDirJoin
from ._models import Finding

__all__ = ["v1_checks", "v1_findings"]

_MODEL_DIR_V2 = 'os.path.join(os.environ["AZUREML_MODEL_DIR"], "<folder of the registered model>")'


def v1_findings(tree: ast.Module, joins: list[ModelDirJoin]) -> list[Finding]:
    """A warning for each v1-only API the script uses, naming its v2 replacement."""
    findings: list[Finding] = []
    core = next((node for node in ast.walk(tree) if _imports(node, "azureml.core")), None)
    if core is not None:
        findings.append(
            Finding(
                "warning",
                "imports azureml.core, the v1 SDK: v2 inference environments do not install it, so init() "
                "would fail with ModuleNotFoundError. Read the model folder from the AZUREML_MODEL_DIR "
                "environment variable, settings from environment_variables of the deployment, and log "
                "with print() or logging (the deployment's logs) instead of Run.get_context().",
                getattr(core, "lineno", None),
            )
        )
    call = next((node for node in ast.walk(tree) if _is_get_model_path(node)), None)
    if call is not None:
        findings.append(
            Finding(
                "warning",
                "Model.get_model_path() is v1-only (azureml.core): in v2 the deployment's model is mounted "
                f"at AZUREML_MODEL_DIR; use {_MODEL_DIR_V2} (or the file name for a single-file model).",
                getattr(call, "lineno", None),
            )
        )
    for join in joins:
        parts = join.relative.strip("/").split("/")
        if len(parts) >= 2 and parts[1].isdigit():
            rest = "/".join(parts[2:]) or "<file>"
            findings.append(
                Finding(
                    "warning",
                    f"AZUREML_MODEL_DIR/{join.relative} follows the v1 layout <model name>/<version>/...: "
                    "v2 mounts the deployment's one model without name and version, as "
                    f"AZUREML_MODEL_DIR/<folder of the registered model>/{rest}. Drop '{parts[0]}/{parts[1]}/' "
                    "and put the registered folder's name there.",
                    join.line,
                )
            )
            break
    return findings


def v1_checks(tree: ast.Module) -> list[str]:
    """What the script uses from v1 that still works in v2 (for the list of passed checks)."""
    checks = []
    if any(_imports(node, "inference_schema") for node in ast.walk(tree)):
        checks.append("inference_schema decorators work unchanged in v2 (and publish /swagger.json)")
    if any(_imports(node, "azureml.contrib.services") for node in ast.walk(tree)):
        checks.append(
            "azureml.contrib.services (rawhttp, AMLResponse) works in v2: the inference server maps it to "
            "azureml_inference_server_http.api"
        )
    return checks


def _imports(node: ast.AST, package: str) -> bool:
    if isinstance(node, ast.Import):
        return any(_within(alias.name, package) for alias in node.names)
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return _within(node.module, package) or any(
            _within(f"{node.module}.{alias.name}", package) for alias in node.names
        )
    return False


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _is_get_model_path(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_model_path"
    )
