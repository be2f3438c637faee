"""Settings of the local runtime, read from environment variables with defaults.

=========================  ==========================================================  ===================
variable                   meaning                                                     default
=========================  ==========================================================  ===================
``MLEP_RUNTIME``           backend: ``auto``, ``docker`` or ``process``                ``auto``
``MLEP_IMAGE_MAP``         ``image=local-tag`` pairs, comma separated, used instead    (none)
                           of pulling (air-gapped machines)
``MLEP_DOCKER_MOUNTS``     extra mounts ``src:dst[:ro]``, comma separated; ``auto``    ``auto``
                           mounts the host CA bundle and ``/etc/pip.conf`` when present
``MLEP_DOCKER_NETWORK``    network mode of containers and builds                       ``host``
``MLEP_IMAGE_PREFIX``      repository name of environment images                       ``mlep-env``
``MLEP_ENVS_DIR``          where virtual environments are cached                       ``$MLEP_HOME/envs``
``MLEP_INSTALLER``         ``auto`` (uv when installed, else pip), ``uv`` or ``pip``   ``auto``
``MLEP_PYTHON``            interpreter that virtual environments are made from         this Python
``MLEP_DOCKER_TIMEOUT``    seconds to wait for the Docker engine to answer             ``5``
``MLEP_MAX_INSTANCES``     most instances one deployment may run on this machine       see below
``MLEP_MAX_JOBS``          most jobs running at once on this machine (the rest wait    one per CPU core
                           ``Queued``)
=========================  ==========================================================  ===================

The default ``MLEP_MAX_INSTANCES`` is what this machine can run: 4 instances per CPU core, and
no more than one instance per 512 MiB of physical memory (each instance is an inference server
with its own Python process), at least 1. A deployment (or a scale) above it is refused before
anything changes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import SettingsError

__all__ = ["DEFAULT_BASE_IMAGE", "Mount", "RuntimeSettings", "default_max_instances"]

#: Azure ML's default base image for environments given as a conda file without an image.
DEFAULT_BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
_HOST_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
_BACKENDS = ("auto", "docker", "process")
_INSTANCES_PER_CORE = 4
_MIB_PER_INSTANCE = 512


def default_max_instances() -> tuple[int, str]:
    """The default instance limit of one deployment on this machine, and why (cores and memory)."""
    cores = os.cpu_count() or 1
    try:
        memory_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        memory_mib = 0
    by_cores = _INSTANCES_PER_CORE * cores
    by_memory = memory_mib // _MIB_PER_INSTANCE if memory_mib > 0 else by_cores
    limit = max(1, min(by_cores, by_memory))
    reason = (
        f"{_INSTANCES_PER_CORE} per CPU core on {cores} core{'s' if cores != 1 else ''}, "
        f"and one per {_MIB_PER_INSTANCE} MiB of its {memory_mib} MiB of memory"
        if memory_mib > 0
        else f"{_INSTANCES_PER_CORE} per CPU core on {cores} core{'s' if cores != 1 else ''}"
    )
    return limit, reason


@dataclass(frozen=True)
class Mount:
    """A bind mount into containers."""

    source: str
    target: str
    read_only: bool = True

    def as_arg(self) -> str:
        """The ``--mount`` value for the docker CLI."""
        suffix = ",readonly" if self.read_only else ""
        return f"type=bind,source={self.source},target={self.target}{suffix}"


@dataclass(frozen=True)
class RuntimeSettings:
    """Settings of the local runtime; :meth:`from_env` reads them from the environment."""

    home: Path
    backend: str = "auto"
    image_map: Mapping[str, str] = field(default_factory=dict)
    docker_mounts: tuple[Mount, ...] = ()
    docker_network: str = "host"
    image_prefix: str = "mlep-env"
    envs_dir: Path | None = None
    installer: str = "auto"
    python: str = sys.executable
    docker_timeout: float = 5.0
    max_instances: int = field(default_factory=lambda: default_max_instances()[0])
    max_instances_reason: str = field(default_factory=lambda: default_max_instances()[1])
    max_jobs: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def runtime_dir(self) -> Path:
        """Where state records, logs and control sockets of running deployments live."""
        return self.home / "runtime"

    @property
    def env_cache(self) -> Path:
        """Where virtual environments are cached by content hash."""
        return self.envs_dir or (self.home / "envs")

    def map_image(self, image: str) -> str:
        """The local image to use for ``image`` (the image map, else the image itself)."""
        return self.image_map.get(image, image)

    @property
    def ca_bundle_target(self) -> str | None:
        """Path of the host CA bundle inside containers, when one is mounted."""
        for mount in self.docker_mounts:
            if mount.target in _HOST_CA_BUNDLES:
                return mount.target
        return None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeSettings:
        """Read the settings from environment variables (see the module docstring)."""
        env = os.environ if environ is None else environ
        home = Path(env.get("MLEP_HOME") or "~/.jupyter_mlep").expanduser()
        backend = env.get("MLEP_RUNTIME", "auto").strip().lower() or "auto"
        if backend not in _BACKENDS:
            raise SettingsError(
                f"Unknown runtime {backend!r} (MLEP_RUNTIME).", hint="Use auto, docker or process."
            )
        installer = env.get("MLEP_INSTALLER", "auto").strip().lower() or "auto"
        if installer not in ("auto", "uv", "pip"):
            raise SettingsError(
                f"Unknown installer {installer!r} (MLEP_INSTALLER).", hint="Use auto, uv or pip."
            )
        try:
            timeout = float(env.get("MLEP_DOCKER_TIMEOUT", "5"))
        except ValueError:
            raise SettingsError("MLEP_DOCKER_TIMEOUT must be a number of seconds.") from None
        envs_dir = env.get("MLEP_ENVS_DIR")
        max_instances, reason = default_max_instances()
        set_instances = _count(env, "MLEP_MAX_INSTANCES", f"this machine's default ({reason})")
        if set_instances is not None:
            max_instances, reason = set_instances, "set by MLEP_MAX_INSTANCES"
        cores = os.cpu_count() or 1
        max_jobs = _count(env, "MLEP_MAX_JOBS", f"one job per CPU core ({cores})") or cores
        return cls(
            home=home,
            backend=backend,
            image_map=_parse_image_map(env.get("MLEP_IMAGE_MAP", "")),
            docker_mounts=_parse_mounts(env.get("MLEP_DOCKER_MOUNTS", "auto")),
            docker_network=env.get("MLEP_DOCKER_NETWORK", "host").strip() or "host",
            image_prefix=env.get("MLEP_IMAGE_PREFIX", "mlep-env").strip() or "mlep-env",
            envs_dir=Path(envs_dir).expanduser() if envs_dir else None,
            installer=installer,
            python=env.get("MLEP_PYTHON") or sys.executable,
            docker_timeout=timeout,
            max_instances=max_instances,
            max_instances_reason=reason,
            max_jobs=max_jobs,
        )


def _count(env: Mapping[str, str], name: str, default: str) -> int | None:
    """The whole number (at least 1) in variable ``name``, or None when it is unset or blank;
    ``default`` says what unset means (in the hint of the error)."""
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(
            f"{name} must be a whole number of at least 1, not {env[name]!r}.",
            hint=f"Leave it unset for {default}.",
        )
    return value


def _parse_image_map(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise SettingsError(
                f"Invalid MLEP_IMAGE_MAP entry {item!r}.",
                hint="Use image=local-tag pairs separated by commas, e.g. "
                f"{DEFAULT_BASE_IMAGE}=mlep-base:bookworm",
            )
        result[source.strip()] = target.strip()
    return result


def _parse_mounts(text: str) -> tuple[Mount, ...]:
    text = text.strip()
    if text.lower() == "none" or not text:
        return ()
    if text.lower() == "auto":
        mounts = [Mount(path, path) for path in _HOST_CA_BUNDLES if os.path.isfile(path)][:1]
        if os.path.isfile("/etc/pip.conf"):
            mounts.append(Mount("/etc/pip.conf", "/etc/pip.conf"))
        return tuple(mounts)
    result = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        parts = item.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
            raise SettingsError(
                f"Invalid MLEP_DOCKER_MOUNTS entry {item!r}.", hint="Use src:dst or src:dst:ro."
            )
        result.append(Mount(parts[0], parts[1], read_only=len(parts) == 3 and parts[2] == "ro"))
    return tuple(result)
