"""The registry of runtime backends, and the choice that ``auto`` makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._errors import SettingsError
from ._base import Backend
from ._logs import Reporter, StorageLog, stderr_reporter
from ._settings import RuntimeSettings
from ._spec import EnvironmentSpec
from ._state import deployment_dir, load_records

__all__ = [
    "BackendChoice",
    "available_backends",
    "get_backend",
    "recorded_deployments",
    "register_backend",
    "select_backend",
    "write_storage_log",
]

BackendFactory = Callable[[RuntimeSettings, "Reporter | None"], Backend]
_REGISTRY: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Register a backend under ``name`` (a later registration replaces an earlier one)."""
    _REGISTRY[name] = factory


def available_backends() -> list[str]:
    """Names of the registered backends."""
    _ensure_builtin()
    return sorted(_REGISTRY)


@dataclass(frozen=True)
class BackendChoice:
    """The backend picked for a setting, and why; ``warning`` says what ``auto`` had to give up."""

    name: str
    reason: str
    warning: str = ""


def select_backend(
    settings: RuntimeSettings | None = None, environment: EnvironmentSpec | None = None
) -> BackendChoice:
    """Resolve ``auto``: Docker when an engine answers, else local processes, with the reason.

    Given the ``environment`` to run, ``auto`` also checks that Docker can have its base image
    (present, mapped by ``MLEP_IMAGE_MAP``, or pulled now); when it cannot, the choice is local
    processes, with a ``warning`` saying why.
    """
    settings = settings or RuntimeSettings.from_env()
    if settings.backend != "auto":
        return BackendChoice(settings.backend, f"MLEP_RUNTIME={settings.backend}")
    from ._docker_engine import DockerEngine  # imports docker: only when probing for an engine

    engine = DockerEngine(timeout=settings.docker_timeout)
    missing = None
    try:
        problem = engine.problem()
        if problem is None and environment is not None:
            from ._docker_image import base_image_problem

            missing = base_image_problem(environment, settings, engine)
    finally:
        engine.close()
    if problem is None and missing is not None:
        warning = (
            f"{missing.rstrip('.')}: running this deployment as local processes instead (MLEP_RUNTIME=auto). "
            "To run it in Docker, map the image to a local one (MLEP_IMAGE_MAP) and set the deployment "
            "property mlep.runtime=docker."
        )
        reason = f"Docker engine answers at {engine.host}, but {missing[:1].lower()}{missing[1:].rstrip('.')}"
        return BackendChoice("process", f"{reason}: using local processes", warning)
    if problem is None:
        return BackendChoice("docker", f"Docker engine answers at {engine.host}: using containers")
    return BackendChoice(
        "process", f"Docker engine not reachable at {engine.host} ({problem}): using local processes"
    )


def get_backend(
    name: str | None = None,
    *,
    settings: RuntimeSettings | None = None,
    reporter: Reporter | None = stderr_reporter,
) -> Backend:
    """The backend ``name`` (``auto``, ``docker`` or ``process``; default: the ``MLEP_RUNTIME`` setting).

    ``auto`` reports which backend it chose and why through ``reporter``. Asking for ``docker``
    when no engine answers raises :class:`DockerUnavailableError` (after a short timeout).
    """
    _ensure_builtin()
    settings = settings or RuntimeSettings.from_env()
    wanted = (name or settings.backend).lower()
    if wanted == "auto":
        choice = select_backend(settings)
        if reporter is not None:
            reporter(f"runtime: {choice.reason}")
        wanted = choice.name
    if wanted not in _REGISTRY:
        raise SettingsError(
            f"Unknown runtime {wanted!r}.", hint=f"Use auto or one of: {', '.join(sorted(_REGISTRY))}."
        )
    return _REGISTRY[wanted](settings, reporter)


def recorded_deployments(settings: RuntimeSettings | None = None) -> list[tuple[str, str, str]]:
    """``(backend, endpoint, deployment)`` of every state record under the runtime folder.

    Read from files only: it answers even when the engine of a backend does not.
    """
    settings = settings or RuntimeSettings.from_env()
    _ensure_builtin()
    return [
        (record.backend, record.endpoint, record.name)
        for name in sorted(_REGISTRY)
        for record in load_records(settings.runtime_dir, name)
    ]


def write_storage_log(settings: RuntimeSettings, endpoint: str, name: str, line: str) -> None:
    """Append ``line`` to a deployment's ``storage-initializer`` log (before or while it starts).

    Lines starting with ``warning: `` are the environment warnings shown with a deploy.
    """
    StorageLog(deployment_dir(settings.runtime_dir, endpoint, name) / "storage-initializer.log").write(line)


def _ensure_builtin() -> None:
    if "process" not in _REGISTRY:
        from ._process import ProcessBackend

        register_backend("process", lambda settings, reporter: ProcessBackend(settings, reporter=reporter))
    if "docker" not in _REGISTRY:
        from ._docker import DockerBackend

        register_backend("docker", lambda settings, reporter: DockerBackend(settings, reporter=reporter))
