"""The Jupyter server extension behind the JupyterLab Endpoints panel (``labextension/``).

Enabled by the wheel's ``etc/jupyter/jupyter_server_config.d/jupyter_mlep.json``. It adds the
authenticated routes of :mod:`._handlers` below ``/jupyter-mlep/``, which call
:mod:`jupyter_mlep.operations` only, and one :class:`~._feed.Feed` that keeps the current
target's resources (the kinds of :mod:`._kinds`) and tells the panels when they change.
Credentials stay in the server: the browser sees names, states and masked keys.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """What ``jupyter server extension list`` and the server load: this module."""
    return [{"module": "jupyter_mlep.server"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Add the panel's routes and its feed to ``server_app`` (a ``jupyter_server`` ServerApp)."""
    from ._feed import Feed
    from ._handlers import setup_handlers

    feed = Feed()
    setup_handlers(server_app.web_app, feed)
    server_app.log.info(
        "jupyter_mlep: the Endpoints panel's routes are at /jupyter-mlep/ (target %s)", feed.settings.target
    )
