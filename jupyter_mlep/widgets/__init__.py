"""Widgets for live deployment status, logs, traffic and the endpoint dashboard (ipywidgets 8).

Core widgets only, so JupyterLab, Notebook 7 and VS Code render them without front-end code.
Every widget also has ``text/plain``, static ``text/html`` and the status output
(``application/vnd.jupyter-mlep.status+json``). Under papermill and nbconvert (or with
``MLEP_WIDGETS=static``) the same calls print text and block instead: see :mod:`._mode`.
Widgets are thin: they call :mod:`jupyter_mlep.operations` and draw the results.
"""

from ._mode import DisplayMode, display_mode
from ._poller import Poller

__all__ = ["DisplayMode", "Poller", "display_mode"]
