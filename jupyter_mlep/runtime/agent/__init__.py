"""Files that run inside a deployment's environment (stdlib only, never imported by jupyter_mlep).

``launcher.py`` is the warm launcher of the inference server; ``gunicorn_conf.py`` the gunicorn
configuration it gives each server. :data:`AGENT_DIR` is mounted into containers.
"""

from __future__ import annotations

from pathlib import Path

AGENT_DIR = Path(__file__).resolve().parent
LAUNCHER = AGENT_DIR / "launcher.py"
GUNICORN_CONF = AGENT_DIR / "gunicorn_conf.py"
