"""Settings: where state lives, which target (local or Azure) and which api-version.

Resolution order, first match wins for each setting:

1. explicit values (``%mlep use …``, ``%config MlepMagics.…``, or arguments to :func:`resolve`);
2. environment variables (``MLEP_HOME``, ``MLEP_TARGET``, ``MLEP_API_VERSION``, ``MLEP_ARM_URL``,
   ``AZURE_SUBSCRIPTION_ID``, ``AZURE_RESOURCE_GROUP``, ``AZUREML_WORKSPACE_NAME``);
3. a ``config.json`` found the way the Azure ML SDK finds it (the working directory and its
   parents, each checked for ``config.json``, ``.azureml/config.json`` and ``aml_config/config.json``);
4. defaults: target ``local``, home ``~/.jupyter_mlep``, api-version ``2026-07-01``, management
   endpoint ``https://management.azure.com``.

``arm_url`` is the Azure Resource Manager endpoint of the ``azure`` target (another cloud, such as
``https://management.usgovcloudapi.net``, or a proxy). It must be https, except on a loopback host.

Each resolved value remembers where it came from (:attr:`Settings.sources`), shown by
``%mlep status`` and ``jupyter-mlep status``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._errors import SettingsError
from .targets import Target, get_target, targets

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_ARM_URL",
    "Settings",
    "find_config_file",
    "resolve",
    "validate_setting",
]

DEFAULT_API_VERSION = "2026-07-01"
DEFAULT_ARM_URL = "https://management.azure.com"
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

_CONFIG_LOCATIONS = (
    "config.json",
    os.path.join(".azureml", "config.json"),
    os.path.join("aml_config", "config.json"),
)
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_ENV = {
    "home": "MLEP_HOME",
    "target": "MLEP_TARGET",
    "api_version": "MLEP_API_VERSION",
    "arm_url": "MLEP_ARM_URL",
    "subscription_id": "AZURE_SUBSCRIPTION_ID",
    "resource_group": "AZURE_RESOURCE_GROUP",
    "workspace_name": "AZUREML_WORKSPACE_NAME",
}
_AZURE_FIELDS = ("subscription_id", "resource_group", "workspace_name")


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one session. Build it with :func:`resolve`."""

    home: Path
    target: str = "local"
    """The name of a registered target (:mod:`jupyter_mlep.targets`)."""
    api_version: str = DEFAULT_API_VERSION
    arm_url: str = DEFAULT_ARM_URL
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def target_info(self) -> Target:
        """The registered target named by :attr:`target`."""
        return get_target(self.target)

    @property
    def workspace_path(self) -> str | None:
        """The ARM path of the Azure workspace, or None when the target does not use one (local)."""
        if not set(_AZURE_FIELDS) <= set(self.target_info.required):
            return None
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace_name}"
        )

    @property
    def arm_scope(self) -> str:
        """The token scope for :attr:`arm_url`: its own ``/.default`` (another cloud), except for the
        public cloud and loopback hosts (a proxy or an emulator), which take the public cloud's."""
        host = urlsplit(self.arm_url).hostname or ""
        if self.arm_url == DEFAULT_ARM_URL or host in _LOOPBACK_HOSTS or host.startswith("127."):
            return DEFAULT_ARM_URL + "/.default"
        return self.arm_url + "/.default"

    def describe(self) -> list[tuple[str, str, str]]:
        """Rows of (setting, value, where it came from), for status displays."""
        names = ["target", "home", "api_version", *self.target_info.settings]
        return [(name, str(getattr(self, name)), self.sources.get(name, "default")) for name in names]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def __str__(self) -> str:
        width = max(len(name) for name, _, _ in self.describe())
        return "\n".join(f"{name:<{width}}  {value}  ({source})" for name, value, source in self.describe())


def find_config_file(start: Path | None = None) -> Path | None:
    """Find an Azure ML ``config.json`` in ``start`` (default: the working directory) or a parent."""
    folder = (start or Path.cwd()).resolve()
    for candidate_dir in (folder, *folder.parents):
        for relative in _CONFIG_LOCATIONS:
            candidate = candidate_dir / relative
            if candidate.is_file():
                return candidate
    return None


def _read_config_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"Cannot read the Azure ML workspace file {path}: {exc}",
            hint="Fix or remove it; it should hold subscription_id, resource_group and workspace_name.",
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(
            f"{path} must hold a JSON object with subscription_id, resource_group and workspace_name."
        )
    return {key: str(data[key]) for key in _AZURE_FIELDS if data.get(key)}


def resolve(
    overrides: Mapping[str, object | None] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sources: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the settings from ``overrides``, the environment, a config.json and the defaults.

    ``sources`` names where each override came from (for status displays); default "explicit".
    """
    env = os.environ if environ is None else environ
    given = {key: value for key, value in (overrides or {}).items() if value not in (None, "")}
    unknown = set(given) - set(_ENV)
    if unknown:
        raise SettingsError(f"Unknown setting(s): {', '.join(sorted(unknown))}. Known: {', '.join(_ENV)}.")

    values: dict[str, object] = {}
    origin: dict[str, str] = {}
    for name, variable in _ENV.items():
        if name in given:
            values[name], origin[name] = given[name], (sources or {}).get(name, "explicit")
        elif env.get(variable):
            values[name], origin[name] = env[variable], f"environment variable {variable}"

    config_path = find_config_file(cwd) if env.get("MLEP_IGNORE_CONFIG_JSON") is None else None
    if config_path is not None:
        for name, value in _read_config_file(config_path).items():
            if name not in values:
                values[name], origin[name] = value, f"config.json at {config_path}"

    if "target" not in values:
        for implied in targets():
            if implied.required and all(values.get(name) for name in implied.required):
                values["target"] = implied.name
                origin["target"] = (
                    f"implied by the {implied.name} target's settings (" + origin[implied.required[-1]] + ")"
                )
                break

    try:
        target = get_target(str(values.get("target", "local")))
    except SettingsError as exc:
        raise SettingsError(
            f"Unknown target {values.get('target')!r} ({origin.get('target', 'default')}).", hint=exc.hint
        ) from None
    api_version = str(values.get("api_version", DEFAULT_API_VERSION))
    if not _API_VERSION.match(api_version):
        raise SettingsError(
            f"Invalid api-version {api_version!r} ({origin.get('api_version')}).",
            hint=f"Use a date such as {DEFAULT_API_VERSION} or 2024-10-01-preview.",
        )
    home = Path(str(values.get("home", "~/.jupyter_mlep"))).expanduser()
    arm_url = _arm_url(str(values.get("arm_url", DEFAULT_ARM_URL)), origin.get("arm_url", "default"))

    settings = Settings(
        home=home,
        target=target.name,
        api_version=api_version,
        arm_url=arm_url,
        subscription_id=_optional_str(values.get("subscription_id")),
        resource_group=_optional_str(values.get("resource_group")),
        workspace_name=_optional_str(values.get("workspace_name")),
        sources=origin,
    )
    missing = [name for name in target.required if not getattr(settings, name)]
    if missing:
        raise SettingsError(
            f"The target is {target.name!r} but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
            "not set.",
            hint=target.setup_hint,
        )
    return settings


def _arm_url(value: str, origin: str) -> str:
    """``value`` without a trailing slash, checked: https, or http on a loopback host only."""
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = urlsplit(""), ""
    hint = f"Use an https URL such as {DEFAULT_ARM_URL} (http only for 127.0.0.1 or localhost)."
    if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        raise SettingsError(f"Invalid management endpoint URL {value!r} ({origin}).", hint=hint)
    if parts.scheme == "http" and not (host in _LOOPBACK_HOSTS or host.startswith("127.")):
        raise SettingsError(
            f"The management endpoint {value!r} ({origin}) uses http on a host that is not this machine: "
            "tokens would travel unencrypted.",
            hint=hint,
        )
    return url


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def validate_setting(name: str, value: str, *, source: str = "explicit") -> None:
    """Check one setting's value when it is set (``%config MlepMagics.…``), by the rules of :func:`resolve`;
    raises :class:`~jupyter_mlep.SettingsError` naming it. The Azure workspace fields a target
    needs are checked later, when the settings are resolved together."""
    probe: dict[str, object | None] = {name: value}
    if name == "target":  # the settings the target requires are given later
        probe.update(dict.fromkeys(get_target(value).required, "set-later"))
    resolve(probe, environ={"MLEP_IGNORE_CONFIG_JSON": "1"}, sources={name: source})
