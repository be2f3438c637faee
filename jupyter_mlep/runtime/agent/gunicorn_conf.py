"""gunicorn configuration for the inference server started by the jupyter_mlep launcher (stdlib only).

azmlinfsrv always asks gunicorn to bind 0.0.0.0. The ``on_starting`` hook, which gunicorn calls
before it creates its listening sockets, replaces that with ``MLEP_GUNICORN_BIND`` (the runtime
gives ``unix:<path>``, created with mode 0600 by the ``umask`` below), so the server is never
reachable over the network; ``when_ready`` gives the socket to ``MLEP_SOCKET_OWNER`` when set
(a container runs as root; the runtime on the host may not). ``post_worker_init`` records
which installed modules the scoring script needed, so the launcher can import them before the next
start. No control socket is created (``~/.gunicorn`` stays untouched). With ``MLEP_DEBUG_PORT``,
``post_fork`` starts a debugpy listener on ``127.0.0.1`` in the worker before it loads the scoring
script (and waits for a client there when ``MLEP_DEBUG_WAIT=1``). Every log record made while the
worker serves a request starts with ``[request ID]`` (the server's ``x-request-id``), so one
request's lines, a failed request's traceback included, can be picked out of the log.

With one worker (``WORKER_COUNT=1``, the default) the worker class is ``keepalive_worker.py``'s
:class:`KeepAliveSyncWorker`: gunicorn's sync worker (one request at a time, in the main thread,
same timeouts) that keeps connections alive, so the scoring router reuses its connections. Set
``MLEP_SERVER_KEEPALIVE=0`` in the deployment's environment variables for gunicorn's sync worker.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

control_socket_disable = True
# gunicorn creates Unix sockets under this umask: owner read and write only (0600).
umask = 0o177
# gunicorn's default is the working directory at the time gunicorn was imported (in a warm
# launcher, the launcher's), and it changes to it before reading this file: use the directory the
# server was started in (the code folder), as a freshly started azmlinfsrv would.
chdir = os.environ.get("MLEP_SERVER_CWD") or os.getcwd()


def _keepalive_worker() -> Any:
    """The keep-alive sync worker class, or None (several workers, or turned off)."""
    if os.environ.get("MLEP_SERVER_KEEPALIVE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if os.environ.get("WORKER_COUNT", "1").strip() not in ("", "1"):
        return None
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keepalive_worker.py")
    spec = importlib.util.spec_from_file_location("mlep_keepalive_worker", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.KeepAliveSyncWorker


_worker = _keepalive_worker()
if _worker is not None:
    worker_class = _worker


def on_starting(server: Any) -> None:
    """Bind where the launcher says (``unix:<path>``) instead of 0.0.0.0."""
    bind = os.environ.get("MLEP_GUNICORN_BIND")
    if bind:
        server.cfg.set("bind", [bind])


def _tag_request_records() -> None:
    """Log records made while a request is served start with ``[request ID]`` (its x-request-id)."""
    import logging

    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        flask = sys.modules.get("flask")
        if flask is not None and flask.has_request_context():
            request_id = flask.g.get("request_id")
            if request_id:
                tag = (
                    f"[request {request_id}] ".replace("%", "%%")
                    if record.args
                    else f"[request {request_id}] "
                )
                record.msg = tag + str(record.msg)
        return record

    logging.setLogRecordFactory(factory)


def post_fork(server: Any, worker: Any) -> None:
    """Tag request log records; a debug deployment: listen for a debugpy client on loopback before
    the script is loaded."""
    _tag_request_records()
    port = os.environ.get("MLEP_DEBUG_PORT", "").strip()
    if not port.isdigit():
        return
    try:
        import debugpy
    except ImportError:
        server.log.error("debugging asked (MLEP_DEBUG_PORT) but debugpy is not installed in this environment")
        return
    debugpy.listen(("127.0.0.1", int(port)))
    server.log.info("debugpy listens on 127.0.0.1:%s (worker %s)", port, os.getpid())
    if os.environ.get("MLEP_DEBUG_WAIT") == "1":
        server.log.info("waiting for a debugger to attach on 127.0.0.1:%s", port)
        debugpy.wait_for_client()


def _owner() -> tuple[int, int] | None:
    """``MLEP_SOCKET_OWNER`` (``uid:gid``): who must own the sockets (a container runs as root)."""
    uid, sep, gid = os.environ.get("MLEP_SOCKET_OWNER", "").partition(":")
    return (int(uid), int(gid)) if sep and uid.isdigit() and gid.isdigit() else None


def when_ready(server: Any) -> None:
    """Give the Unix socket to the user the runtime runs as (when it says, as in a container)."""
    owner = _owner()
    bind = os.environ.get("MLEP_GUNICORN_BIND", "")
    if owner is not None and bind.startswith("unix:"):
        try:
            os.chown(bind[len("unix:") :], *owner)
        except OSError as exc:
            server.log.warning("could not give the socket to %s: %s", owner, exc)


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
        if name == "debugpy" or name.startswith("debugpy."):
            continue  # imported by a debug server's post_fork, never preloaded by the launcher
        if "site-packages" in real or "dist-packages" in real:
            names.append(name)
    try:
        tmp = f"{target}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(sorted(names)))
        os.replace(tmp, target)
    except OSError:
        pass
