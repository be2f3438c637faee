"""The rules of ``inferenceconfig.json`` fields (entry script, source directory, environment or
conda file, runtime, GPU), v1 → v2: :data:`INFERENCE_RULES`."""

from __future__ import annotations

from typing import Any

from .._errors import SpecError
from ._v1_state import CPU_IMAGE, Rule, State, carried_to, dropped

__all__ = ["INFERENCE_RULES"]

_V1_PACKAGES = {"azureml-defaults": "azureml-inference-server-http", "azureml-core": None}


def _entry_script(value: Any, where: str, state: State) -> None:
    state.out.deployment["code_configuration"] = {
        "code": state.relative(state.code),
        "scoring_script": str(value),
    }
    state.carry(where, "deployment.code_configuration.scoring_script")


def _source_directory(value: Any, where: str, state: State) -> None:
    state.carry(where, "deployment.code_configuration.code")  # resolved before the rules run


def _conda_file(value: Any, where: str, state: State) -> None:
    import yaml

    path = state.code / str(value)
    if not path.exists():
        path = state.source / str(value)
    try:
        conda = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SpecError(f"{where} names {path}, which cannot be read ({exc.strerror}).") from None
    environment = state.out.deployment.setdefault("environment", {"image": CPU_IMAGE})
    if _replace_v1_packages(conda, where, state):
        state.out.conda = conda
        environment["conda_file"] = "conda.yaml"
    else:
        environment["conda_file"] = state.relative(path)
    state.carry(where, "deployment.environment.conda_file")


def _environment(value: Any, where: str, state: State) -> None:
    env = state.out.deployment.setdefault("environment", {"image": CPU_IMAGE})
    if set(value) <= {"name", "version"}:  # a registered environment
        state.out.deployment["environment"] = f"azureml:{value['name']}:{value.get('version') or '1'}"
        state.carry(where, "deployment.environment (a registered environment)")
        return
    for key, item in value.items():
        sub = f"{where}.{key}"
        if key == "name" or key == "version":
            state.drop(sub, "v2 registers an inline environment under a name of its own")
        elif key == "environmentVariables" and item:
            state.out.deployment.setdefault("environment_variables", {}).update(
                {str(k): str(v) for k, v in item.items()}
            )
            state.carry(sub, "deployment.environment_variables")
        elif key == "docker" and isinstance(item, dict) and item.get("baseImage"):
            env["image"] = item["baseImage"]
            state.carry(f"{sub}.baseImage", "deployment.environment.image")
            for other in sorted(set(item) - {"baseImage"}):
                state.drop(f"{sub}.{other}", "v2 environments take an image or a build context only")
        elif key == "python" and isinstance(item, dict) and item.get("condaDependencies"):
            conda = dict(item["condaDependencies"])
            _replace_v1_packages(conda, f"{sub}.condaDependencies", state)
            state.out.conda = conda
            env["conda_file"] = "conda.yaml"
            state.carry(f"{sub}.condaDependencies", "deployment.environment.conda_file (conda.yaml)")
            for other in sorted(set(item) - {"condaDependencies"}):
                state.drop(f"{sub}.{other}", "v2 builds the conda environment itself")
        else:
            state.drop(sub, "no v2 equivalent in an environment (or empty)")


def _replace_v1_packages(conda: dict[str, Any], where: str, state: State) -> bool:
    """Swap v1 SDK packages in the conda dependencies for what v2 needs; whether anything changed."""
    changed = False
    for dependency in conda.get("dependencies") or []:
        if isinstance(dependency, dict) and isinstance(dependency.get("pip"), list):
            kept = []
            for package in dependency["pip"]:
                base = str(package).split("=")[0].split("[")[0].strip().lower()
                if base in _V1_PACKAGES:
                    changed = True
                    replacement = _V1_PACKAGES[base]
                    state.drop(
                        f"{where}: pip {package}",
                        f"v1 SDK package; {'replaced by ' + replacement if replacement else 'not needed'} in v2",
                    )
                    if replacement and replacement not in kept:
                        kept.append(replacement)
                else:
                    kept.append(package)
            dependency["pip"] = kept
    return changed


def _runtime(value: Any, where: str, state: State) -> None:
    if str(value).lower() == "python":
        state.carry(where, "deployment (v2 scoring scripts are Python)")
    else:
        state.drop(where, f"runtime {value!r} has no v2 equivalent: v2 serves Python scoring scripts only")


def _enable_gpu(value: Any, where: str, state: State) -> None:
    state.gpu = bool(value)
    what = "a GPU image and size" if value else "a CPU image and size"
    state.carry(where, f"deployment.environment.image and instance_type ({what})")


INFERENCE_RULES: dict[str, Rule] = {
    "entryScript": _entry_script,
    "sourceDirectory": _source_directory,
    "condaFile": _conda_file,
    "environment": _environment,
    "runtime": _runtime,
    "enableGpu": _enable_gpu,
    "baseImage": carried_to("deployment", "environment.image"),
    "baseImageRegistry": dropped(
        "v2 pulls private images with the workspace's identity, not stored credentials"
    ),
    "extraDockerfileSteps": dropped(
        "v2 takes a whole build context: write a Dockerfile and use environment.build"
    ),
    "cudaVersion": dropped("v2 takes the CUDA version from the image; enableGpu chose a CUDA image"),
    "schemaFile": dropped("v2 publishes the schema of the inference_schema decorators at /swagger.json"),
    "dependencies": dropped("v2 uploads the whole sourceDirectory; put extra files there"),
    "description": carried_to("endpoint", "description"),
}
