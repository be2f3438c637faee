"""Widgets for live deployment status, logs, traffic, the endpoint dashboard and jobs (ipywidgets 8).

Core widgets only, so JupyterLab, Notebook 7 and VS Code render them without front-end code.
Every widget also has ``text/plain``, static ``text/html`` and the status output
(``application/vnd.jupyter-mlep.status+json``). Under papermill and nbconvert (or with
``MLEP_WIDGETS=static``) the same calls print text and block instead: see :mod:`._mode`.
Widgets are thin: they call :mod:`jupyter_mlep.operations` and draw the results.
"""

from typing import TYPE_CHECKING, Any

from ._mode import DisplayMode, display_mode
from ._poller import Poller

if TYPE_CHECKING:
    from ._state import DeploymentState
    from ._views import deploy_with_status, follow_logs, show_status, watch_job, watch_sweep
    from .dashboard import EndpointDashboard
    from .job import JobWidget
    from .logs import LogsWidget
    from .metrics import MetricsWidget
    from .profile import ProfileWidget
    from .rollout import RolloutWidget
    from .status import StatusWidget
    from .sweep import SweepWidget
    from .traffic import TrafficWidget

__all__ = [
    "DeploymentState",
    "DisplayMode",
    "EndpointDashboard",
    "JobWidget",
    "LogsWidget",
    "MetricsWidget",
    "Poller",
    "ProfileWidget",
    "RolloutWidget",
    "StatusWidget",
    "SweepWidget",
    "TrafficWidget",
    "deploy_with_status",
    "display_mode",
    "follow_logs",
    "show_status",
    "watch_job",
    "watch_sweep",
]

_LAZY = {
    "DeploymentState": "._state",
    "EndpointDashboard": ".dashboard",
    "JobWidget": ".job",
    "LogsWidget": ".logs",
    "MetricsWidget": ".metrics",
    "ProfileWidget": ".profile",
    "RolloutWidget": ".rollout",
    "StatusWidget": ".status",
    "SweepWidget": ".sweep",
    "TrafficWidget": ".traffic",
    "deploy_with_status": "._views",
    "follow_logs": "._views",
    "show_status": "._views",
    "watch_job": "._views",
    "watch_sweep": "._views",
}
"""Exports imported on first use: ``import jupyter_mlep.widgets`` does not import ipywidgets."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
