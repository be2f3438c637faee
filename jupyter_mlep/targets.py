"""Targets: where the management plane lives (``local`` or ``azure``) and what each one can do.

One registry; nothing else in the package compares target names. A target declares how its base
URL, workspace path and credential come from the :class:`~jupyter_mlep.settings.Settings`
(:attr:`Target.address`), what it can do (:class:`Capabilities`: how late its metrics are published,
the token scope of ``aad_token`` scoring, an implicit start), its start hook, the settings it reads, and how
"cannot connect" is worded. Code above ``rest/`` asks capabilities, never names::

    if client.capabilities.implicit_start:
        ...

Adding a target is one :func:`register` call (and its hooks). Importing this module is cheap:
the hooks import what they need (the local workspace, ``azure-identity``) when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import RestError, SettingsError, WorkspaceUnavailableError

if TYPE_CHECKING:
    from .rest import TokenCredential
    from .settings import Settings

__all__ = [
    "Address",
    "Capabilities",
    "Target",
    "Unreachable",
    "get_target",
    "register",
    "target_names",
    "targets",
]

AZURE_METRICS_DELAY = 180.0
"""How long Azure Monitor may take to publish a minute of an online deployment's platform
metrics (typically one to three minutes): what a rollout gate waits on Azure before judging."""

ML_SCOPE = "https://ml.azure.com/.default"
"""The scope of Microsoft Entra tokens for scoring ``aad_token`` endpoints in Azure."""


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, asked by the operations instead of its name."""

    metrics_delay: float = 0.0
    """Seconds after which the target's Azure Monitor metrics of a moment are published (its
    ingestion delay): a rollout gate waits that long after its step before reading the step's
    requests, then until two reads agree (see :mod:`jupyter_mlep.operations._metric_window`)."""
    scoring_scope: str | None = None
    """The scope of the Entra token that scores ``aad_token`` endpoints; None: the client's own
    management token is accepted."""
    implicit_start: bool = False
    """Connecting starts the target's server when none runs (the start hook)."""
    debugger: bool = False
    """Deployments can run with a debugpy listener on this machine (``deploy --debug``); the
    ``mlep.debug`` deployment property is never sent to a target without it."""
    request_details: bool = False
    """Errors print the request's URL and the service's request ids (its support asks for them);
    False: they stay on the exception (``.url``, ``.request_id``…), and only the request's path
    below the workspace is printed."""
    deployment_servers: bool = False
    """The workspace tells where a deployment's servers listen and reads their CPU and memory
    (``/mlep/v1/deployments/…``): profiling can reach them directly and measure them exactly."""


@dataclass(frozen=True)
class Address:
    """Where a client of a target sends its requests, and how it authenticates."""

    base_url: str
    """The management plane's base URL (no trailing slash)."""
    workspace_path: str
    """The ARM path of the workspace, prefix of every resource path."""
    credential: Callable[[], TokenCredential]
    """Makes the credential; called only when the caller gives none (it may import azure-identity)."""
    scope: str | None = None
    """The token scope of the management plane; None: the client's default (Azure's public cloud)."""
    ca_file: str | None = None
    """The certificate authority (PEM file) the client trusts for this target's HTTPS instead of
    the system's (the local workspace's own authority); None: the system's."""


@dataclass(frozen=True)
class Unreachable:
    """How a target words "cannot connect": the error raised, its message and its hint.

    ``message`` may use ``{base_url}`` and ``{error}`` (the transport error's class name).
    """

    error: type[RestError]
    message: str
    hint: str | None = None

    def build(self, base_url: str, error: str, *, method: str, url: str) -> RestError:
        """The error for a request to ``url`` that failed with the transport error ``error``."""
        return self.error(
            self.message.format(base_url=base_url, error=error), hint=self.hint, method=method, url=url
        )


@dataclass(frozen=True)
class Target:
    """One registered target."""

    name: str
    """The name users choose (``%mlep use NAME``, ``MLEP_TARGET``)."""
    description: str
    """One line for help texts."""
    capabilities: Capabilities
    address: Callable[[Settings], Address]
    """Base URL, workspace path and credential from the settings (the target's server running)."""
    start: Callable[[Settings], None] | None = None
    """Makes sure the target's server runs (called before :attr:`address` with ``implicit_start``)."""
    settings: tuple[str, ...] = ()
    """The settings this target reads besides target, home and api_version (shown by status)."""
    required: tuple[str, ...] = ()
    """The settings it cannot work without; when all are given and no target is, it is implied."""
    setup_hint: str | None = None
    """How to give the required settings."""
    unreachable: Unreachable | None = None
    """How "cannot connect" is worded; None: the generic wording (host and transport error)."""
    change_marker: Callable[[Settings], object] | None = None
    """A cheap value that changes when the target's resources may have changed (watchers re-read
    them only then); None: watchers poll the service with backoff."""

    def connect(self, settings: Settings) -> Address:
        """The address of this target for ``settings``, after the start hook when it starts implicitly."""
        if self.capabilities.implicit_start and self.start is not None:
            self.start(settings)
        return self.address(settings)


_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    """Add ``target`` to the registry (replacing one of the same name); returns it."""
    _REGISTRY[target.name.lower()] = target
    return target


def targets() -> list[Target]:
    """The registered targets, in registration order."""
    return list(_REGISTRY.values())


def target_names() -> list[str]:
    """The names of the registered targets."""
    return [target.name for target in _REGISTRY.values()]


def get_target(name: str) -> Target:
    """The registered target ``name`` (case-insensitive); :class:`~jupyter_mlep.SettingsError` naming
    the known targets when there is none."""
    target = _REGISTRY.get(str(name).lower())
    if target is None:
        known = target_names()
        raise SettingsError(
            f"Unknown target {name!r}.",
            hint="Use " + " or ".join(repr(n) for n in known) + ".",
        )
    return target


# -- local: the workspace server of this machine ------------------------------------------

_LOCAL_START_HINT = (
    "Start it with 'jupyter-mlep workspace start' (or any %endpoint magic starts it), "
    "and see its log under $MLEP_HOME/workspace/ if it stopped on its own."
)


def _start_local(settings: Settings) -> None:
    from .workspace import ensure_running

    ensure_running(settings.home)


def _local_marker(settings: Settings) -> object:
    from .workspace import change_marker

    return change_marker(settings.home)


def _local_address(settings: Settings) -> Address:
    from .workspace import status

    info = status(settings.home)
    if info is None:
        raise WorkspaceUnavailableError(
            f"No local workspace runs for {settings.home}.", hint=_LOCAL_START_HINT
        )
    token = info.token

    def credential() -> TokenCredential:
        from .rest import StaticTokenCredential

        return StaticTokenCredential(token)

    return Address(
        info.base_url, info.workspace_path, credential, ca_file=str(info.ca_file) if info.ca_file else None
    )


register(
    Target(
        name="local",
        description="the local workspace server on this machine (started when needed)",
        capabilities=Capabilities(
            metrics_delay=0.0,
            scoring_scope=None,
            implicit_start=True,
            debugger=True,
            deployment_servers=True,
        ),
        address=_local_address,
        start=_start_local,
        change_marker=_local_marker,
        unreachable=Unreachable(
            WorkspaceUnavailableError,
            "The local workspace at {base_url} does not answer ({error}).",
            _LOCAL_START_HINT,
        ),
    )
)


# -- azure: Azure Resource Manager --------------------------------------------------------

_AZURE_FIELDS = ("subscription_id", "resource_group", "workspace_name")


def _azure_address(settings: Settings) -> Address:
    workspace_path = settings.workspace_path
    if workspace_path is None:
        missing = ", ".join(name for name in _AZURE_FIELDS if not getattr(settings, name))
        raise SettingsError(f"The azure target needs {missing}.", hint=_AZURE_HINT)

    def credential() -> TokenCredential:
        from .rest import default_azure_credential

        return default_azure_credential()

    return Address(settings.arm_url, workspace_path, credential, settings.arm_scope)


_AZURE_HINT = (
    "Run %mlep use azure --subscription SUB --resource-group RG --workspace WS, "
    "put a config.json (downloaded from the Azure ML studio) in this folder, or set "
    "AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and AZUREML_WORKSPACE_NAME."
)

register(
    Target(
        name="azure",
        description="an Azure ML workspace through Azure Resource Manager",
        capabilities=Capabilities(
            metrics_delay=AZURE_METRICS_DELAY,
            scoring_scope=ML_SCOPE,
            implicit_start=False,
            request_details=True,
        ),
        address=_azure_address,
        settings=("arm_url", *_AZURE_FIELDS),
        required=_AZURE_FIELDS,
        setup_hint=_AZURE_HINT,
    )
)
