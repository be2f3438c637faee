"""IPython magics: ``%%score_script``, ``%mlep``, ``%endpoint`` (and, later, ``%job``).

The magics class only parses and dispatches: each verb lives in its own small module,
imported when the verb is first used so that ``%load_ext jupyter_mlep`` stays fast.
Settings are traitlets, so ``%config MlepMagics.target = "local"`` works.
"""

from __future__ import annotations

import importlib
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import (
    Magics,
    cell_magic,
    line_cell_magic,
    line_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
)
from traitlets import Unicode, observe

from ..settings import Settings, resolve

__all__ = ["MlepMagics", "register"]

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

    widgets = Unicode(
        None,
        allow_none=True,
        help="'auto' (widgets in live front ends, text under papermill/nbconvert), 'interactive' or 'static'"
        " ($MLEP_WIDGETS).",
    ).tag(config=True)

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._setting_sources: dict[str, str] = {}
        self._assigning_source: str | None = None

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
        """Show or change jupyter_mlep settings.

        %mlep status
        %mlep use local
        %mlep use azure --subscription SUB --resource-group RG --workspace WS [--api-version V] [--arm-url URL]
        """
        return self._dispatch("mlep", line)

    @no_var_expand
    @needs_local_scope
    @line_cell_magic
    def endpoint(self, line: str, cell: str | None = None, local_ns: dict[str, Any] | None = None) -> Any:
        """Online endpoints from a notebook: the verbs of ``az ml online-endpoint/online-deployment``.

        %endpoint create NAME [--auth-mode key|aml_token|aad_token]      e.g. %endpoint create my-endpoint
        %endpoint create -f endpoint.yml
        %endpoint deploy NAME DEPLOYMENT --model PATH|azureml:N:V --code DIR --scoring-script score.py
                 (--env conda.yml | --image IMAGE | --build DIR) [--instance-type T] [--instance-count N]
                 [--env-var K=V ...] [--traffic N | --all-traffic] [--no-wait]
            e.g. %endpoint deploy my-endpoint blue --model model/ --code src --scoring-script score.py --env conda.yml --traffic 100
        %endpoint deploy -f deployment.yml [--endpoint NAME] [--set KEY=VALUE ...]
            e.g. %endpoint deploy -f blue-deployment.yml --all-traffic
        %endpoint invoke NAME [--deployment D] (--request-file F | --data $var | cell body) [--full]
            e.g. r = %endpoint invoke my-endpoint --request-file sample-request.json
        %endpoint logs NAME DEPLOYMENT [--lines N] [--container storage-initializer] [--follow]
            e.g. %endpoint logs my-endpoint blue --lines 50
        %endpoint traffic NAME [blue=90 green=10] [--mirror green=10]   (no split: show it)
            e.g. %endpoint traffic my-endpoint blue=90 green=10
        %endpoint rollout NAME DEPLOYMENT [--steps 10,50,100] [--mirror-first P] [--interval 30s]
                 [--gate "error_rate<1%" --gate "p95_ms<200" ...] [--sample-request F] [--sample-count N]
            e.g. %endpoint rollout my-endpoint green --steps 10,50,100 --interval 30s --gate "error_rate<1%"
            (a failed gate, an error or Ctrl-C restores the original split, then raises RolloutError)
        %endpoint show NAME [--deployment D]              e.g. %endpoint show my-endpoint
        %endpoint list                                    e.g. %endpoint list
        %endpoint delete NAME [--deployment D]            e.g. %endpoint delete my-endpoint --deployment green
        %endpoint keys NAME [--regenerate primary|secondary]   (masked; jupyter_mlep.get_keys reads them)
        %endpoint update NAME [--traffic blue=100] [--mirror green=10] [--tag K=V] [--description T]
        %endpoint scale NAME DEPLOYMENT --instance-count N   e.g. %endpoint scale my-endpoint blue --instance-count 2

        Every verb takes --local (the local workspace whatever the current target) and -h.
        """
        return self._dispatch("endpoint", line, cell, local_ns or {})


def register(ipython: InteractiveShell) -> None:
    """Register the magics on ``ipython``."""
    ipython.register_magics(MlepMagics)
