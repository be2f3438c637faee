"""gunicorn configuration for the inference server started by the jupyter_mlep launcher (stdlib only).

azmlinfsrv always asks gunicorn to bind 0.0.0.0. The ``on_starting`` hook, which gunicorn calls
before it creates its listening sockets, replaces that with ``MLEP_GUNICORN_BIND`` (a loopback
address), so the server is never reachable from outside the machine. ``post_worker_init`` records
which installed modules the scoring script needed, so the launcher can import them before the next
start. No control socket is created (``~/.gunicorn`` stays untouched).
"""

from __future__ import annotations

import os
import sys
from typing import Any

control_socket_disable = True
# gunicorn's default is the working directory at the time gunicorn was imported (in a warm
# launcher, the launcher's), and it changes to it before reading this file: use the directory the
# server was started in (the code folder), as a freshly started azmlinfsrv would.
chdir = os.environ.get("MLEP_SERVER_CWD") or os.getcwd()


def on_starting(server: Any) -> None:
    """Bind where the launcher says (127.0.0.1:<port>) instead of 0.0.0.0."""
    bind = os.environ.get("MLEP_GUNICORN_BIND")
    if bind:
        server.cfg.set("bind", [bind])


def post_worker_init(worker: Any) -> None:
    """Write the names of the installed modules loaded by now (never the user's own code)."""
    target = os.environ.get("MLEP_MODULES_FILE")
    if not target:
        return
    private = [
        os.path.realpath(path)
        for path in (os.environ.get("AML_APP_ROOT"), os.environ.get("AZUREML_MODEL_DIR"))
        if path
    ]
    server_code = f"{os.sep}azureml_inference_server_http{os.sep}server{os.sep}"
    names = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or name.startswith("__"):
            continue
        real = os.path.realpath(path)
        if server_code in real or any(real.startswith(root + os.sep) for root in private):
            continue
        if "site-packages" in real or "dist-packages" in real:
            names.append(name)
    try:
        tmp = f"{target}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(sorted(names)))
        os.replace(tmp, target)
    except OSError:
        pass
