"""IPython magics: ``%%score_script``, ``%mlep``, and one magic per verb group: ``%endpoint`` (and,
later, ``%job``, ``%batch``).

The magics class only parses and dispatches: the verbs of ``%endpoint`` are defined once in
:mod:`jupyter_mlep.verbs` (shared with the command line), each in its own small module; the modules
that run them are imported when first used so that ``%load_ext jupyter_mlep`` stays fast.
Settings are traitlets, so ``%config MlepMagics.target = "local"`` works; every value is checked
when it is set.
"""

from __future__ import annotations

import importlib
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import (
    MAGIC_NO_VAR_EXPAND_ATTR,
    Magics,
    cell_magic,
    line_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
)
from traitlets import Enum, TraitError, Unicode, observe, validate

from .._errors import SettingsError
from ..settings import Settings, resolve, validate_setting
from ..verbs import GROUPS

__all__ = ["MlepMagics", "VerbGroupMagic", "register"]


class VerbGroupMagic:
    """The line and cell magic of one verb group (``%endpoint``, ``%%endpoint``), one per entry of
    :data:`jupyter_mlep.verbs.GROUPS`. Its docstring (``%endpoint?``) is written by the verb registry
    when first read, so that ``%load_ext`` neither imports the verbs nor builds their parsers."""

    needs_local_scope = True

    def __init__(self, magics: MlepMagics, group: str) -> None:
        self._magics = magics
        self._group = group
        setattr(self, MAGIC_NO_VAR_EXPAND_ATTR, True)

    def __call__(self, line: str, cell: str | None = None, local_ns: dict[str, Any] | None = None) -> Any:
        return self._magics.run_verbs(self._group, line, cell, local_ns or {})

    @property
    def __doc__(self) -> str:  # type: ignore[override]
        from ..verbs import docstring, group

        return docstring(group(self._group))


_SETTING_TRAITS = (
    "home",
    "target",
    "api_version",
    "arm_url",
    "subscription_id",
    "resource_group",
    "workspace_name",
)


@magics_class
class MlepMagics(Magics):
    """The jupyter_mlep magics. Settings left unset (None) come from the environment or config.json."""

    home = Unicode(
        None, allow_none=True, help="Folder for local state ($MLEP_HOME, default ~/.jupyter_mlep)."
    ).tag(config=True)
    target = Unicode(None, allow_none=True, help="'local' (default) or 'azure'.").tag(config=True)
    api_version = Unicode(None, allow_none=True, help="Azure ML REST api-version (default 2026-07-01).").tag(
        config=True
    )
    arm_url = Unicode(
        None,
        allow_none=True,
        help="Azure Resource Manager endpoint of the 'azure' target (default https://management.azure.com).",
    ).tag(config=True)
    subscription_id = Unicode(None, allow_none=True, help="Azure subscription id (target 'azure').").tag(
        config=True
    )
    resource_group = Unicode(None, allow_none=True, help="Azure resource group (target 'azure').").tag(
        config=True
    )
    workspace_name = Unicode(None, allow_none=True, help="Azure ML workspace name (target 'azure').").tag(
        config=True
    )

    widgets = Enum(
        ["auto", "interactive", "static"],
        None,
        allow_none=True,
        help="'auto' (widgets in live front ends, text under papermill/nbconvert), 'interactive' or 'static'"
        " ($MLEP_WIDGETS).",
    ).tag(config=True)

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._setting_sources: dict[str, str] = {}
        self._assigning_source: str | None = None
        for name in GROUPS:  # %endpoint, %job, %batch: one magic per verb group
            self.magics["line"][name] = self.magics["cell"][name] = VerbGroupMagic(self, name)

    @validate(*_SETTING_TRAITS)
    def _check_setting(self, proposal: dict[str, Any]) -> str | None:
        """Refuse an invalid value when it is set, not at the next magic: a TraitError (so that
        ``%config`` keeps the old value) with the SettingsError's message and hint."""
        value: str | None = proposal["value"]
        if value not in (None, ""):
            try:
                validate_setting(proposal["trait"].name, value, source="%config MlepMagics")
            except SettingsError as exc:
                raise TraitError(str(exc)) from None
        return value

    @observe(*_SETTING_TRAITS)
    def _remember_source(self, change: dict[str, Any]) -> None:
        self._setting_sources[change["name"]] = self._assigning_source or "%config MlepMagics"

    def settings(self, **changes: str | None) -> Settings:
        """Resolve the settings: traits (with ``changes`` applied), then environment, config.json, defaults."""
        explicit = {name: getattr(self, name) for name in _SETTING_TRAITS}
        explicit.update(changes)
        sources = {name: self._setting_sources.get(name, "%config MlepMagics") for name in explicit}
        return resolve(explicit, sources=sources)

    def set_settings(self, source: str, **values: str | None) -> None:
        """Set setting traits, recording ``source`` as where they came from."""
        self._assigning_source = source
        try:
            for name, value in values.items():
                setattr(self, name, value)
        finally:
            self._assigning_source = None

    def _dispatch(self, verb: str, *args: Any) -> Any:
        module = importlib.import_module(f"{__name__}.{verb}")
        return module.run(self, *args)

    @no_var_expand
    @needs_local_scope
    @cell_magic
    def score_script(self, line: str, cell: str, local_ns: dict[str, Any] | None = None) -> Any:
        """Write the cell to a scoring script, check it against the Azure ML inference server contract,
        and optionally smoke-test it.

        %%score_script [PATH] [--model-dir DIR] [--test REQUEST] [--no-check] [--env-var K=V ...]

        PATH defaults to score.py. REQUEST is a JSON file, a $variable or a literal JSON string.
        """
        return self._dispatch("score_script", line, cell, local_ns or {})

    @no_var_expand
    @line_magic
    def mlep(self, line: str) -> Any:
        """Show or change jupyter_mlep settings; create, show, list and delete workspace resources.

        %mlep status
        %mlep use local
        %mlep use azure --subscription SUB --resource-group RG --workspace WS [--api-version V] [--arm-url URL]
        %mlep create -f FILE.yml [--set KEY=VALUE]... [--name NAME] [--endpoint-name E] [--all-traffic]
        %mlep show KIND NAME [--version V] [--endpoint-name E]
        %mlep list KIND [--name NAME] [--endpoint-name E]
        %mlep delete KIND NAME [--version V] [--endpoint-name E]

        KIND: model, environment, data, code, compute, online-endpoint, online-deployment, datastore, job,
              batch-endpoint, batch-deployment.
        """
        return self._dispatch("mlep", line)

    def run_verbs(self, name: str, line: str, cell: str | None, local_ns: dict[str, Any]) -> Any:
        """Run a verb group's magic (``%endpoint``) through :mod:`jupyter_mlep.verbs`."""
        from IPython.display import display

        from ..verbs import run_line
        from ..widgets import display_mode

        namespace = {**(self.shell.user_ns if self.shell else {}), **local_ns}
        return run_line(
            name,
            line,
            cell,
            settings=self.settings,
            namespace=namespace,
            mode=display_mode(self.widgets),
            display=display,
        )


def register(ipython: InteractiveShell) -> None:
    """Register the magics on ``ipython``."""
    ipython.register_magics(MlepMagics)
