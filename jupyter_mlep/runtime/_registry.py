"""The registry of runtime backends, and the choice that ``auto`` makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._errors import SettingsError
from ._base import Backend
from ._logs import Reporter, stderr_reporter
from ._settings import RuntimeSettings

__all__ = ["BackendChoice", "available_backends", "get_backend", "register_backend", "select_backend"]

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
    """The backend picked for a setting, and why."""

    name: str
    reason: str


def select_backend(settings: RuntimeSettings | None = None) -> BackendChoice:
    """Resolve ``auto``: Docker when an engine answers, else local processes, with the reason."""
    settings = settings or RuntimeSettings.from_env()
    if settings.backend != "auto":
        return BackendChoice(settings.backend, f"MLEP_RUNTIME={settings.backend}")
    from ._docker_engine import DockerEngine  # imports docker: only when probing for an engine

    engine = DockerEngine(timeout=settings.docker_timeout)
    try:
        problem = engine.problem()
    finally:
        engine.close()
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


def _ensure_builtin() -> None:
    if "process" not in _REGISTRY:
        from ._process import ProcessBackend

        register_backend("process", lambda settings, reporter: ProcessBackend(settings, reporter=reporter))
    if "docker" not in _REGISTRY:
        from ._docker import DockerBackend

        register_backend("docker", lambda settings, reporter: DockerBackend(settings, reporter=reporter))
