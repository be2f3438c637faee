"""Warm launcher of the Azure ML inference server (runs in the deployment's environment; stdlib only).

One launcher runs per deployment instance (a local process, or the main process of a container).
It imports the inference server, then serves commands on a unix socket. Every start of the
server is a fork of this warm interpreter, so a reload after a code change costs the scoring
script's ``init()`` and little else. After a start, ``warm`` imports the installed modules that
the script used (listed by the gunicorn configuration), so the next fork has them too.

Protocol: one JSON request per connection, one JSON answer::

    {"op": "spawn", "argv": [...], "env": {...}, "cwd": "...", "log": "..."}  -> {"pid": N}
    {"op": "kill", "pid": N, "grace": seconds}                                -> {"exit": code}
    {"op": "status"}                  -> {"pid": launcher pid, "children": {"N": exit code or null}}
    {"op": "warm", "modules_file": "..."}                                     -> {"imported": n}
    {"op": "restart", "env": {...}}   -> {} (stops the servers, then re-executes with a new environment)
    {"op": "shutdown"}                                                        -> {} (then exits)
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import json
import os
import signal
import socket
import sys
import time
import traceback
from typing import Any

_children: dict[int, int | None] = {}


def _preload() -> None:
    for name in (
        "azureml_inference_server_http.amlserver",
        "azureml_inference_server_http.amlserver_linux",
        "flask",
    ):
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _warm(modules_file: str) -> int:
    try:
        with open(modules_file, encoding="utf-8") as handle:
            names = [line.strip() for line in handle if line.strip()]
    except OSError:
        return 0
    count = 0
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
            count += 1
        except BaseException:
            pass
    return count


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(request: dict[str, Any], listener: socket.socket) -> None:
    code = 1
    try:
        os.setpgid(0, 0)
        _die_with_parent()
        listener.close()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        # Never cache the scoring script's bytecode: a script rewritten within the same second
        # with the same size would otherwise be loaded from a stale .pyc on the next reload.
        sys.dont_write_bytecode = True
        importlib.import_module("azureml_inference_server_http.amlserver").run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _children[pid] = os.waitstatus_to_exitcode(status)


def _kill(pid: int, grace: float) -> int | None:
    if pid not in _children:
        return None
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap()
            if _children.get(pid) is not None:
                break
            time.sleep(0.01)
        if _children.get(pid) is not None:
            break
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the server's workers, if any survived
    return _children.get(pid)


def _handle(request: dict[str, Any], listener: socket.socket) -> dict[str, Any]:
    op = request.get("op")
    if op == "spawn":
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request, listener)
        _children[pid] = None
        return {"pid": pid}
    if op == "kill":
        return {"exit": _kill(int(request["pid"]), float(request.get("grace", 0.0)))}
    if op == "status":
        _reap()
        return {"pid": os.getpid(), "children": {str(pid): code for pid, code in _children.items()}}
    if op == "warm":
        return {"imported": _warm(str(request["modules_file"]))}
    if op in ("shutdown", "restart"):
        return {}
    return {"error": f"unknown op {op!r}"}


def _shutdown() -> None:
    for pid, code in list(_children.items()):
        if code is None:
            _kill(pid, 1.0)


def main() -> None:
    """Serve launcher commands on the unix socket given by ``--control`` until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--control", required=True, help="path of the unix control socket")
    parser.add_argument("--modules", help="file listing modules to import before the first start")
    args = parser.parse_args()
    _preload()
    if args.modules:
        _warm(args.modules)

    def _terminate(signum: int, frame: Any) -> None:
        _shutdown()
        os._exit(0)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(args.control)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(args.control)
    os.chmod(args.control, 0o600)
    uid, sep, gid = os.environ.get("MLEP_SOCKET_OWNER", "").partition(":")
    if sep and uid.isdigit() and gid.isdigit():  # in a container, for the runtime on the host
        with contextlib.suppress(OSError):
            os.chown(args.control, int(uid), int(gid))
    listener.listen(16)
    listener.settimeout(0.2)
    print(f"launcher {os.getpid()} ready on {args.control}", flush=True)
    while True:
        _reap()
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(30)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            request: dict[str, Any] = {}
            try:
                request = json.loads(data.decode("utf-8"))
                answer = _handle(request, listener)
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps(answer).encode("utf-8") + b"\n")
            if request.get("op") in ("shutdown", "restart"):
                _shutdown()
                listener.close()
                os.unlink(args.control)
                if request.get("op") == "restart":
                    sys.stdout.flush()
                    env = {str(k): str(v) for k, v in dict(request.get("env") or os.environ).items()}
                    os.execve(sys.executable, [sys.executable, *sys.argv], env)
                return


if __name__ == "__main__":
    main()
