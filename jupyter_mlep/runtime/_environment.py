"""Environments as recipes: what to install, on what, and the content hash they are cached under."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import EnvironmentBuildError
from ._conda import EnvironmentWarning, map_conda, read_conda_file
from ._spec import EnvironmentSpec

__all__ = ["INFERENCE_SERVER", "EnvironmentRecipe", "python_version", "venv_recipe"]

INFERENCE_SERVER = "azureml-inference-server-http"
#: Bump when the way environments are built changes, so old caches are not reused.
RECIPE_VERSION = 2
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")


@dataclass(frozen=True)
class EnvironmentRecipe:
    """Everything that decides the content of a built environment, and what could not be honoured."""

    kind: str  # "venv" or "image"
    requirements: tuple[str, ...] = ()
    python: str = ""
    interpreter: str = ""
    base_image: str | None = None
    conda: str | None = None  # the conda file, as canonical JSON, for images that have conda
    context_digest: str | None = None
    dockerfile: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """The content hash (16 hex digits) the built environment is cached and tagged under."""
        content = {
            "v": RECIPE_VERSION,
            "kind": self.kind,
            "requirements": list(self.requirements),
            "python": self.python,
            "interpreter": self.interpreter,
            "base_image": self.base_image,
            "conda": self.conda,
            "context": self.context_digest,
            "dockerfile": self.dockerfile,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def requirements_text(self) -> str:
        """The requirements as a requirements.txt file."""
        return "".join(f"{req}\n" for req in self.requirements)


def python_version(python: str) -> str:
    """The full version (``3.11.7``) of the interpreter at ``python``."""
    if python == sys.executable:
        return "{}.{}.{}".format(*sys.version_info[:3])
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvironmentBuildError(f"Cannot run the interpreter {python}: {exc}") from None
    return out.stdout.strip()


def with_inference_server(requirements: list[str]) -> list[str]:
    """``requirements`` plus the inference server, unless they already name it."""
    names = {m.group(1).lower().replace("_", "-") for m in map(_NAME.match, requirements) if m}
    return requirements if INFERENCE_SERVER in names else [*requirements, INFERENCE_SERVER]


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blank lines dropped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        line.split(" #")[0].strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
    ]


def venv_recipe(env: EnvironmentSpec, python: str, *, serving: bool = True) -> EnvironmentRecipe:
    """The recipe of a virtual environment for ``env`` on the interpreter ``python``.

    ``serving``: the inference server is added (deployments); jobs install only what they list.

    Conda files are mapped to pip requirements (with warnings). A Docker build context is used
    only through a ``requirements*.txt`` file found in it; a base image is ignored (with a warning).
    """
    version = python_version(python)
    notes: list[str] = list(env.notes)
    requirements: list[str] = []
    if env.build_context is not None:
        found = sorted(Path(env.build_context).glob("requirements*.txt"))
        if not found:
            raise EnvironmentBuildError(
                f"The environment is a Docker build context ({env.build_context}) and the process runtime "
                "cannot run a Dockerfile.",
                hint="Start a Docker engine (MLEP_RUNTIME=docker), or put a requirements.txt in the build context.",
            )
        requirements += read_requirements(found[0])
        notes.append(
            f"the process runtime ignores the Dockerfile and installs {found[0].name} from the build context"
        )
    if env.conda_file is not None:
        mapping = map_conda(read_conda_file(env.conda_file), python_version=version, emit=False)
        requirements += mapping.requirements
        notes += mapping.warnings
    requirements += [req.strip() for req in env.pip_requirements if req.strip()]
    if env.image and env.build_context is None:
        notes.append(
            f"the process runtime does not use the image {env.image}: only the listed packages are installed"
        )
    for note in notes:
        warnings.warn(EnvironmentWarning(note), stacklevel=3)
    return EnvironmentRecipe(
        kind="venv",
        requirements=tuple(with_inference_server(requirements) if serving else requirements),
        python=version,
        interpreter=python,
        warnings=tuple(notes),
    )
