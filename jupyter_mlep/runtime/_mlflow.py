"""The environment of an MLflow model deployed without one (no-code), and its preflight.

The requirements come from the model's own files, as Azure reads them: ``requirements.txt`` (what
``python_env.yaml`` points to), else the pip and conda packages of ``conda.yaml``; ``mlflow``
becomes ``mlflow-skinny`` (same version) unless the flavour needs all of MLflow, and pandas is
added when missing (the generated scoring script builds DataFrames). The inference server is
added by the environment builders, as for every deployment.

:func:`preflight` finds, before anything is deployed, the pins this machine cannot honour: a Python
other than the runtime's interpreter, and exact pins without a wheel for it (asked to ``uv pip
compile --only-binary :all: --no-deps`` against that interpreter: the index is asked about the
model's own packages only). With ``relax``, those pins are changed (the Python pin dropped,
``name==v`` → ``name>=v``) and :attr:`Preflight.changes` says which.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from .._errors import EnvironmentBuildError
from ._conda import map_conda, read_conda_file
from ._environment import python_version, read_requirements
from ._spec import EnvironmentSpec
from ._venv import find_uv, installer_env

__all__ = ["ModelRequirements", "Preflight", "describe_problems", "model_requirements", "preflight"]

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_EXACT = re.compile(r"^==\s*([^,;\s*]+)$")
_NO_WHEEL = re.compile(r"Because ([A-Za-z0-9._\-]+)==(\S+) has no (?:usable )?wheels", re.IGNORECASE)
# Loader modules whose models need MLflow's full dependency set, not mlflow-skinny.
_FULL_MLFLOW = {"mlflow.spark", "mlflow.h2o", "mlflow.johnsnowlabs"}
_CACHE: dict[tuple[tuple[str, ...], str | None, str, bool], Preflight] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelRequirements:
    """What an MLflow model asks for: pip requirements, a Python version, and the file they came from."""

    requirements: tuple[str, ...]
    python: str | None
    source: str


@dataclass(frozen=True)
class Preflight:
    """The outcome of :func:`preflight`: the requirements to install, and the pins not honoured."""

    requirements: tuple[str, ...]
    python: str
    problems: tuple[str, ...] = ()
    """Pins this machine cannot honour (empty when everything can be installed, or once relaxed)."""
    changes: tuple[str, ...] = ()
    """The pins relaxed (``scikit-learn==0.24.1 → scikit-learn>=0.24.1``), with ``relax`` only."""

    def environment(self, name: str) -> EnvironmentSpec:
        """The runtime environment of these requirements."""
        return EnvironmentSpec(pip_requirements=self.requirements, name=name, notes=self.change_notes)

    @property
    def change_notes(self) -> tuple[str, ...]:
        return tuple(f"relaxed the MLflow model's pin {change}" for change in self.changes)


def _name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return match.group(1).lower().replace("_", "-") if match else ""


def _python_from_env_file(root: Path) -> str | None:
    path = root / "python_env.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    return str(data.get("python")) if isinstance(data, dict) and data.get("python") else None


def model_requirements(
    root: Path, *, loader_module: str = "", python_version: str | None = None
) -> ModelRequirements:
    """The pip requirements of the MLflow model at ``root`` (the folder holding ``MLmodel``)."""
    root = Path(root)
    python = _python_from_env_file(root) or python_version
    requirements: list[str] = []
    source = ""
    conda = root / "conda.yaml"
    if (root / "requirements.txt").is_file():
        requirements, source = read_requirements(root / "requirements.txt"), "requirements.txt"
    elif conda.is_file():
        mapping = map_conda(read_conda_file(conda), python_version="0", emit=False)
        requirements, source = list(mapping.requirements), "conda.yaml"
    if conda.is_file() and python is None:
        python = map_conda(read_conda_file(conda), python_version="0", emit=False).python
    requirements = [req for req in requirements if not req.startswith(("-r ", "--", "-c "))]
    names = {_name(req) for req in requirements}
    full = loader_module in _FULL_MLFLOW
    mapped: list[str] = []
    for req in requirements:
        name = _name(req)
        if name == "mlflow" and not full:
            match = _NAME.match(req)
            req = "mlflow-skinny" + (match.group(3) if match else "")
        mapped.append(req)
    if not names & {"mlflow", "mlflow-skinny"}:
        mapped.append("mlflow" if full else "mlflow-skinny")
    if "pandas" not in names:
        mapped.append("pandas")
    return ModelRequirements(tuple(mapped), python, source or "MLmodel")


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _is_exact(requirement: str) -> bool:
    match = _NAME.match(requirement.split(";")[0])
    return bool(match and _EXACT.match(match.group(3).strip()))


def _missing_wheels(requirements: list[str], interpreter: str) -> list[str]:
    """The exact pins of ``requirements`` that have no wheel for ``interpreter`` (``name==v``)."""
    pinned = [req for req in requirements if _is_exact(req)]
    uv = find_uv()
    if uv is None or not pinned:
        return []
    missing: list[str] = []
    for _ in range(len(pinned)):
        left = [req for req in pinned if req not in missing]
        if not left:
            break
        try:
            done = subprocess.run(
                [uv, "pip", "compile", "-", "--no-deps", "--only-binary", ":all:", "--python", interpreter, "-q"],
                input="\n".join(left) + "\n", capture_output=True, text=True, timeout=120,
                env=installer_env(),
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return missing  # the build says what fails; the preflight does not block on its own failure
        if done.returncode == 0:
            break
        found = _NO_WHEEL.search(done.stderr)
        if found is None:
            break  # no index, or another kind of failure: left to the build
        culprit = next((req for req in left if _name(req) == found.group(1).lower().replace("_", "-")), None)
        if culprit is None:
            break
        missing.append(culprit)
    return missing


def preflight(wanted: ModelRequirements, interpreter: str, *, relax: bool = False) -> Preflight:
    """Check ``wanted`` against the Python at ``interpreter``; relax what cannot be honoured with ``relax``.

    Results are remembered for the life of the process (a second deploy of the same model asks
    nothing).
    """
    key = (wanted.requirements, wanted.python, interpreter, relax)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    here = python_version(interpreter)
    problems: list[str] = []
    changes: list[str] = []
    if wanted.python and _major_minor(wanted.python) != _major_minor(here):
        problems.append(f"Python {wanted.python} (this machine serves with Python {_major_minor(here)})")
        changes.append(f"python=={wanted.python} → the Python {_major_minor(here)} of this machine")
    requirements = list(wanted.requirements)
    for req in _missing_wheels(requirements, interpreter):
        problems.append(f"{req} (no wheel for Python {_major_minor(here)})")
        relaxed = req.replace("==", ">=", 1)
        changes.append(f"{req} → {relaxed}")
        requirements[requirements.index(req)] = relaxed
    if relax:
        result = Preflight(tuple(requirements), here, (), tuple(changes))
    else:
        result = Preflight(wanted.requirements, here, tuple(problems))
    with _LOCK:
        _CACHE[key] = result
    return result


def describe_problems(result: Preflight, model: str) -> EnvironmentBuildError:
    """The error for pins that cannot be honoured, with the options."""
    from ..specs._mlflow import NO_CODE_PROPERTY_RELAX

    listed = "; ".join(result.problems)
    return EnvironmentBuildError(
        f"The MLflow model {model} pins what this machine cannot install: {listed}. Nothing was deployed.",
        hint=f"Deploy with --relax-pins (the deployment property {NO_CODE_PROPERTY_RELAX}=true) to use "
        "compatible versions instead (the deployment then lists the pins it changed), or give an "
        "environment and a scoring script (--env conda.yml --code DIR) that this machine can build.",
    )
