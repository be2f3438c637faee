"""Every check of a deployment that can be made before anything changes in the workspace.

:func:`validate_deployment` runs before ``deploy`` creates the endpoint or uploads anything: the
spec's rules, the local paths (model, code folder, scoring script, conda file, build context), the
conda file (valid YAML, requirements that parse), the scoring script's contract (static), and the
``azureml:`` references (the model, code and environment versions must exist: one GET each).
"""

from __future__ import annotations

from pathlib import Path

from .._errors import NotFoundError, SpecValidationError
from ..rest import RestClient
from ..specs import AssetReference, Environment, OnlineDeployment, require_local_path
from ..specs._conda import check_conda, load_conda_file
from ..specs._curated import CURATED_PREFIX, curated_name
from ..specs._mlflow import NO_SCRIPT_HINT, mlflow_rule_text, read_mlflow_model, require_pyfunc
from ._assets import local_code_folder, local_model_path

__all__ = ["validate_deployment"]

_FAMILY = {"models": "model", "codes": "code", "environments": "environment"}
_HOW_TO_CREATE = {
    "models": "register it first (az ml model create --name <name> --version <v> --path <folder>), or give "
    "a local path instead: model: {path: model/}",
    "codes": "give the local folder instead: code_configuration: {code: <folder>, scoring_script: score.py}",
    "environments": "register it first (az ml environment create --file env.yml), or give the environment "
    "inline: environment: {image: mcr.microsoft.com/azureml/minimal-py312-inference:latest, conda_file: "
    "conda.yaml}",
}


def validate_deployment(client: RestClient, spec: OnlineDeployment, *, check_script: bool = True) -> None:
    """Raise a :class:`~jupyter_mlep.SpecValidationError` (or a ScoreScriptError) for anything that
    would make ``deploy`` fail; changes nothing (reads the referenced assets only)."""
    spec.check(complete=True)
    local_model_path(spec)
    folder = local_code_folder(spec)
    if folder is not None and folder.is_dir() and spec.code_configuration is not None:
        script = folder / spec.code_configuration.scoring_script
        if not script.is_file():
            raise SpecValidationError(
                f"The scoring script {spec.code_configuration.scoring_script} is not in the code folder "
                f"{folder}" + (f" (from {spec.source})" if spec.source else "") + ".",
                hint="Fix code_configuration.scoring_script (relative to the code folder) or create the file.",
            )
    if isinstance(spec.environment, Environment):
        check_environment_files(spec.environment)
    if check_script:
        from ._deploy import check_deployment_script

        check_deployment_script(spec)
    if isinstance(spec.model, AssetReference):
        require_asset(client, spec.model, "models")
    if spec.code_configuration is None and spec.environment is None and not spec.is_custom_container:
        check_no_code_model(client, spec)
    code = spec.code_configuration.code if spec.code_configuration else None
    if isinstance(code, AssetReference):
        require_asset(client, code, "codes")
    if isinstance(spec.environment, AssetReference):
        require_environment(client, spec.environment)


def check_no_code_model(client: RestClient, spec: OnlineDeployment) -> None:
    """A deployment without code and environment: its model must be an MLflow model with the
    ``python_function`` flavour (a local folder is read; a registered model must be of type
    mlflow_model). Pins are checked by the service, which knows its Python."""
    where = f"Deployment {spec.name!r}"
    path = local_model_path(spec)
    if path is not None:
        info = read_mlflow_model(path)
        if info is None:
            raise SpecValidationError(
                f"{where} has no code_configuration and no environment, and its model {path} is not an MLflow "
                f"model (no MLmodel file). {mlflow_rule_text()}",
                hint=NO_SCRIPT_HINT,
            )
        require_pyfunc(info, f"The model {path}")
        return
    if isinstance(spec.model, AssetReference) and spec.model.kind in ("short", "arm") and spec.model.version:
        if (
            spec.model.kind == "arm"
            and (spec.model.workspace or "").lower() != client.paths.workspace.lower()
        ):
            return
        body = client.get(client.paths.asset_version("models", spec.model.name or "", spec.model.version))
        kind = str((body.get("properties") or {}).get("modelType") or "")
        if kind.replace("_", "").lower() not in ("mlflowmodel", ""):
            raise SpecValidationError(
                f"{where} has no code_configuration and no environment, and its model {spec.model.short} is of "
                f"type {kind}. {mlflow_rule_text()}",
                hint=NO_SCRIPT_HINT,
            )


def check_environment_files(environment: Environment) -> None:
    """An inline environment's local files: the conda file parses and names installable
    requirements; a local build context exists."""
    environment.check()
    if isinstance(environment.conda_file, Path):
        load_conda_file(environment.conda_file)
    elif isinstance(environment.conda_file, dict):
        check_conda(environment.conda_file, "given inline")
    if environment.build is not None and isinstance(environment.build.path, Path):
        require_local_path(environment.build.path, "build context", environment.source)


def require_environment(client: RestClient, reference: AssetReference) -> None:
    """An environment reference must resolve: registered in the workspace, or curated.

    A curated environment of the ``azureml`` registry is looked up as the workspace's
    ``AzureML-<name>`` (Azure lists curated environments in every workspace; the local workspace
    serves those of its table). References into other registries are not checked from here.
    """
    name = curated_name(reference)
    if reference.kind == "registry":
        if name is None:
            return
        path = client.paths.asset("environments", f"{CURATED_PREFIX}{name}")
        _require(client, path, reference, "environments", curated=True)
        return
    require_asset(client, reference, "environments", curated=name is not None)


def require_asset(
    client: RestClient, reference: AssetReference, family: str, *, curated: bool = False
) -> None:
    """GET the asset version (or container, for ``@label`` and bare names) a reference names;
    refuse a missing one, naming it and how to list or create it."""
    if reference.kind not in ("short", "arm") or not reference.name:
        return
    if reference.kind == "arm" and (reference.workspace or "").lower() != client.paths.workspace.lower():
        return  # another workspace: its assets are not readable from here
    if reference.version is not None:
        path = client.paths.asset_version(family, reference.name, reference.version)
    else:
        path = client.paths.asset(family, reference.name)
    _require(client, path, reference, family, curated=curated)


def _require(client: RestClient, path: str, reference: AssetReference, family: str, *, curated: bool) -> None:
    try:
        client.get(path)
    except NotFoundError as exc:
        what = _FAMILY[family]
        detail = f" The workspace says: {exc.message}" if curated and exc.message else ""
        hint = (
            "Use a curated environment the workspace knows, or give the environment inline: "
            "environment: {image: mcr.microsoft.com/azureml/minimal-py312-inference:latest, conda_file: "
            "conda.yaml}."
            if curated
            else f"List the {family} of the workspace with az ml {what} list (GET {client.paths.assets(family)}); "
            + _HOW_TO_CREATE[family]
            + "."
        )
        raise SpecValidationError(
            f"The {what} {reference.short} does not exist in the workspace: nothing was created or "
            f"uploaded.{detail}",
            hint=hint,
        ) from None
