"""Environment images for the Docker backend, built once and tagged ``<prefix>:<content hash>``.

No registry is needed: the base image comes from the image map (or is already local). Conda and
pip environments are built by running the base image with the host CA bundle, pip configuration
and (when it is installed) the host's ``uv`` and its cache mounted, then committing the container:
an image build cannot mount them. Images with conda use ``conda env create``; others a venv.
A Docker build context is built by the engine (``docker build``); the inference server is added
when missing. Everything goes through the Engine API (:class:`DockerEngine`).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import uuid
import warnings
from pathlib import Path

from .._errors import EnvironmentBuildError
from ._base import PreparedEnvironment
from ._conda import EnvironmentWarning, map_conda, read_conda_file
from ._docker_engine import DockerEngine
from ._environment import RECIPE_VERSION, with_inference_server
from ._logs import StorageLog, tail
from ._settings import DEFAULT_BASE_IMAGE, Mount, RuntimeSettings
from ._spec import EnvironmentSpec
from ._venv import find_uv

__all__ = ["base_image_problem", "build_image"]

_BUILD_SCRIPT = r"""set -e
PY=
if [ -f /mlep-build/conda.yaml ] && command -v conda >/dev/null 2>&1; then
    echo "==> conda env create"
    conda env create -q -p /opt/mlep-env -f /mlep-build/conda.yaml
    PY=/opt/mlep-env/bin/python
    "$PY" -c "import azureml_inference_server_http" 2>/dev/null || "$PY" -m pip install -q azureml-inference-server-http
elif [ -s /mlep-build/requirements.txt ]; then
    SYS=$(command -v python3 || command -v python)
    echo "==> $SYS -m venv /opt/mlep-env"
    "$SYS" -m venv /opt/mlep-env
    PY=/opt/mlep-env/bin/python
    if [ -x /mlep-tools/uv ] && /mlep-tools/uv --version >/dev/null 2>&1; then
        echo "==> uv pip install -r requirements.txt"
        /mlep-tools/uv pip install --compile-bytecode --python "$PY" -r /mlep-build/requirements.txt
    else
        echo "==> pip install -r requirements.txt"
        "$PY" -m pip install --disable-pip-version-check -r /mlep-build/requirements.txt
    fi
else
    PY=$(command -v python3 || command -v python)
    if ! "$PY" -c "import azureml_inference_server_http" 2>/dev/null; then
        echo "==> adding the inference server in /opt/mlep-env"
        "$PY" -m venv --system-site-packages /opt/mlep-env
        PY=/opt/mlep-env/bin/python
        if [ -x /mlep-tools/uv ] && /mlep-tools/uv --version >/dev/null 2>&1; then
            /mlep-tools/uv pip install --compile-bytecode --python "$PY" azureml-inference-server-http
        else
            "$PY" -m pip install --disable-pip-version-check azureml-inference-server-http
        fi
    fi
fi
mkdir -p /var/azureml-app /var/azureml-models
echo "MLEP_PYTHON=$PY"
"""


def build_image(
    environment: EnvironmentSpec, settings: RuntimeSettings, engine: DockerEngine, log: StorageLog
) -> PreparedEnvironment:
    """The image of ``environment``: found by its content hash, or built now."""
    requested = environment.image or DEFAULT_BASE_IMAGE
    base = settings.map_image(requested)
    problem = base_image_problem(environment, settings, engine, log)
    if problem is not None:
        raise EnvironmentBuildError(
            problem,
            hint="Map it to a local image: MLEP_IMAGE_MAP='"
            f"{requested}=mlep-base:bookworm' (scripts/build-base-image builds that one).",
        )
    content = _content(environment, base, engine)
    key = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
    tag = f"{settings.image_prefix}:{key}"
    exists = engine.image_exists(tag)
    notes = _notes(environment, base, engine) if not exists else []
    if exists:
        log.write(f"environment {key}: reusing the image {tag}")
    else:
        _build(environment, base, tag, key, settings, engine, log)
    image = engine.image(tag)
    if image is None:
        raise EnvironmentBuildError(
            f"The image {tag} disappeared right after it was built or found.",
            hint="Something removed it meanwhile (docker image prune?): deploy again.",
        )
    info = image.get("Config") or {}
    labels = info.get("Labels") or {}
    env = tuple(tuple(item.split("=", 1)) for item in info.get("Env") or [] if "=" in item)
    for note in notes:
        warnings.warn(EnvironmentWarning(note), stacklevel=4)
        log.write(f"warning: {note}")
    return PreparedEnvironment(
        key,
        "docker",
        tag,
        labels.get("mlep.python", "python3"),
        tuple(notes),
        env,
    )


def base_image_problem(
    environment: EnvironmentSpec,
    settings: RuntimeSettings,
    engine: DockerEngine,
    log: StorageLog | None = None,
) -> str | None:
    """None when the environment's base image is on this machine (or could be pulled now), else why not.

    An environment built from a Docker build context needs no base image here (its build says).
    """
    if environment.build_context is not None:
        return None
    requested = environment.image or DEFAULT_BASE_IMAGE
    base = settings.map_image(requested)
    if engine.image_exists(base):
        return None
    mapped = f" (mapped from {requested})" if base != requested else ""
    if log is not None:
        log.write(f"base image {base}{mapped} is not present; trying docker pull", report=True)
    if engine.pull(base):
        return None
    return f"The base image {base}{mapped} is not on this machine and cannot be pulled."


def _content(environment: EnvironmentSpec, base: str, engine: DockerEngine) -> dict[str, object]:
    content: dict[str, object] = {"v": RECIPE_VERSION, "kind": "image"}
    if environment.build_context is not None:
        context = Path(environment.build_context)
        digest = hashlib.sha256()
        for path in sorted(p for p in context.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
        content.update(context=digest.hexdigest(), dockerfile=environment.dockerfile)
    else:
        content["base"] = (engine.image(base) or {}).get("Id", "")
    if environment.conda_file is not None:
        content["conda"] = read_conda_file(environment.conda_file)
    content["pip"] = list(environment.pip_requirements)
    return content


def _notes(environment: EnvironmentSpec, base: str, engine: DockerEngine) -> list[str]:
    if environment.conda_file is None or environment.build_context is not None:
        return list(environment.notes)
    probe = (
        "command -v conda >/dev/null && echo conda || (python3 -V 2>/dev/null || python -V) | cut -d' ' -f2"
    )
    answer = engine.output(base, ["sh", "-c", probe]).strip()
    if answer == "conda" or not answer:
        return list(environment.notes)
    return list(environment.notes) + list(
        map_conda(read_conda_file(environment.conda_file), python_version=answer, emit=False).warnings
    )


def _requirements(environment: EnvironmentSpec) -> list[str]:
    reqs: list[str] = []
    if environment.conda_file is not None:
        reqs += map_conda(
            read_conda_file(environment.conda_file), python_version="0", emit=False
        ).requirements
    reqs += [req.strip() for req in environment.pip_requirements if req.strip()]
    return with_inference_server(reqs) if reqs else []


def _build(
    environment: EnvironmentSpec,
    base: str,
    tag: str,
    key: str,
    settings: RuntimeSettings,
    engine: DockerEngine,
    log: StorageLog,
) -> None:
    build_log = settings.runtime_dir / "builds" / f"{key}.log"
    build_log.parent.mkdir(parents=True, exist_ok=True)
    build_log.unlink(missing_ok=True)
    log.write(f"environment {key}: building the image {tag} (log: {build_log})", report=True)
    network = settings.docker_network
    if environment.build_context is not None:
        base = f"{tag}-context"
        log.write(
            f"environment {key}: docker build {environment.build_context} (-f {environment.dockerfile})"
        )
        context = Path(environment.build_context)
        error = engine.build(context, environment.dockerfile, base, network, log, build_log)
        if error is not None:
            raise EnvironmentBuildError(
                f"docker build of {environment.build_context} failed: {error}",
                hint="Fix the Dockerfile (the log shows the step that failed), then deploy again.",
                log_tail=tail(build_log, 30),
            )
    with tempfile.TemporaryDirectory(prefix="mlep-build-") as tmp:
        folder = Path(tmp)
        (folder / "build.sh").write_text(_BUILD_SCRIPT, encoding="utf-8")
        (folder / "requirements.txt").write_text(
            "".join(f"{r}\n" for r in _requirements(environment)), "utf-8"
        )
        if environment.conda_file is not None and environment.build_context is None:
            conda = read_conda_file(environment.conda_file)
            (folder / "conda.yaml").write_text(json.dumps(conda), encoding="utf-8")
        mounts, env = _tools(settings)
        container = None
        try:
            container = engine.create(
                base,
                ["sh", "/mlep-build/build.sh"],
                name=f"mlep-build-{key}-{uuid.uuid4().hex[:6]}",
                network=network,
                mounts=[Mount(str(folder), "/mlep-build"), *mounts],
                environment=env,
            )
            code = engine.run_streamed(container, log, build_log)
            if code != 0:
                raise EnvironmentBuildError(
                    f"Building the image {tag} failed (exit code {code}).",
                    hint="Check the requirements and that the base image has Python.",
                    log_tail=tail(build_log, 30),
                )
            found = [line for line in tail(build_log, 5).splitlines() if line.startswith("MLEP_PYTHON=")]
            python = found[-1].split("=", 1)[1].strip() if found else "python3"
            changes = [
                f"LABEL mlep.environment={key} mlep.python={python}",
                "WORKDIR /var/azureml-app",
                "ENTRYPOINT []",
            ]
            engine.commit(container, tag, changes)
        finally:
            if container is not None:
                engine.remove(container)
            if environment.build_context is not None:  # the final image keeps the layers
                engine.remove_image(base)
    log.write(f"environment {key}: image {tag} ready", report=True)


def _tools(settings: RuntimeSettings) -> tuple[list[Mount], dict[str, str]]:
    """Mounts and variables of a build container: host CA bundle and pip.conf, the host's uv and its cache."""
    mounts = list(settings.docker_mounts)
    env: dict[str, str] = {}
    if settings.ca_bundle_target:
        env["SSL_CERT_FILE"] = settings.ca_bundle_target
    uv = find_uv() if settings.installer in ("auto", "uv") else None
    if uv:
        cache = subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, timeout=30, check=False)
        mounts.append(Mount(uv, "/mlep-tools/uv"))
        if cache.returncode == 0 and cache.stdout.strip():
            Path(cache.stdout.strip()).mkdir(parents=True, exist_ok=True)
            mounts.append(Mount(cache.stdout.strip(), "/mlep-uv-cache", read_only=False))
            env["UV_CACHE_DIR"] = "/mlep-uv-cache"
        env.update(UV_LINK_MODE="copy", UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")
    return mounts, env
