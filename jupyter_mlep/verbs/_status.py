"""``%mlep status`` and ``jupyter-mlep status``: every setting, its value and where it came from,
including the local runtime's settings read from environment variables."""

from __future__ import annotations

import os
from typing import Any

from ..rendering import Result, html_table
from ..settings import Settings

__all__ = ["SettingsStatus"]

_AZURE = ("arm_url", "subscription_id", "resource_group", "workspace_name")
# RuntimeSettings field -> its environment variable (see jupyter_mlep.runtime's settings)
_RUNTIME = {
    "backend": "MLEP_RUNTIME",
    "image_map": "MLEP_IMAGE_MAP",
    "docker_mounts": "MLEP_DOCKER_MOUNTS",
    "docker_network": "MLEP_DOCKER_NETWORK",
    "image_prefix": "MLEP_IMAGE_PREFIX",
    "env_cache": "MLEP_ENVS_DIR",
    "installer": "MLEP_INSTALLER",
    "python": "MLEP_PYTHON",
    "docker_timeout": "MLEP_DOCKER_TIMEOUT",
    "max_instances": "MLEP_MAX_INSTANCES",
}
_HEAD = ("setting", "value", "from")


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items()) or "(none)"
    if isinstance(value, tuple):
        parts = [f"{m.source}:{m.target}" + (":ro" if m.read_only else "") for m in value]
        return ", ".join(parts) or "(none)"
    return "(not set)" if value is None else str(value)


class SettingsStatus(Result):
    """The resolved settings with their sources; reads like :class:`~jupyter_mlep.settings.Settings`
    (``status.target``, ``status.sources``…)."""

    kind = "settings"

    def __init__(self, settings: Settings, *, widgets: str | None = None, widgets_source: str = "") -> None:
        from ..runtime import RuntimeSettings

        self.settings = settings
        runtime = RuntimeSettings.from_env()
        self.azure = [
            (name, _shown(getattr(settings, name)), settings.sources.get(name, "default"))
            for name in _AZURE
            if name not in {row[0] for row in settings.describe()}
        ]
        self.runtime = [
            (
                variable,
                _shown(getattr(runtime, name)),
                "environment variable" if os.environ.get(variable) else "default",
            )
            for name, variable in _RUNTIME.items()
        ]
        if widgets:
            shown_widgets = (widgets, widgets_source or "%config MlepMagics")
        elif os.environ.get("MLEP_WIDGETS"):
            shown_widgets = (os.environ["MLEP_WIDGETS"], "environment variable")
        else:
            shown_widgets = ("auto", "default")
        self.runtime.append(("MLEP_WIDGETS", *shown_widgets))

    def __getattr__(self, name: str) -> Any:
        if name == "settings":
            raise AttributeError(name)
        return getattr(self.settings, name)

    def _sections(self) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
        """(key, title, rows) of each section."""
        sections = [("settings", "", list(self.settings.describe()))]
        if self.azure:
            sections.append(("azure", "Azure workspace (used by the target azure)", self.azure))
        sections.append(("runtime", "Local runtime and display (environment variables)", self.runtime))
        return sections

    def text(self) -> str:
        parts = [str(self.settings)]
        for _, title, rows in self._sections()[1:]:
            width = max(len(name) for name, _, _ in rows)
            lines = [f"{name:<{width}}  {value}  ({source})" for name, value, source in rows]
            parts.append(title + "\n" + "\n".join(lines))
        return "\n\n".join(parts)

    def html(self) -> str:
        tables = [
            f"<b>{title or 'Settings'}</b>" + html_table(_HEAD, rows) for _, title, rows in self._sections()
        ]
        return "<div>" + "".join(tables) + "</div>"

    def to_dict(self) -> dict[str, Any]:
        return {
            key: {name: {"value": value, "from": source} for name, value, source in rows}
            for key, _, rows in self._sections()
        }
