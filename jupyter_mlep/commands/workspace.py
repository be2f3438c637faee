"""``jupyter-mlep workspace start|stop|status|sdk-env``: the local workspace server."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``start [--port P] [--tls] [--foreground]``, ``stop``, ``status``, ``sdk-env``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    start = actions.add_parser("start", help="start the local workspace (detached unless --foreground)")
    start.add_argument(
        "--port", type=int, default=None, help="port on 127.0.0.1 (default: the last one, else free)"
    )
    start.add_argument(
        "--tls",
        action="store_true",
        default=None,
        help="serve HTTPS on loopback with a local certificate authority (default: MLEP_WORKSPACE_TLS)",
    )
    start.add_argument("--foreground", action="store_true", help="run in this terminal until Ctrl-C")
    actions.add_parser("stop", help="stop the local workspace and its deployments")
    actions.add_parser("status", help="say whether the local workspace runs, and where")
    actions.add_parser(
        "sdk-env",
        help="print the environment the Azure ML SDK (azure-ai-ml) needs to use the running workspace",
    )


def run(args: argparse.Namespace) -> int:
    """Start, stop or describe the local workspace."""
    from ..settings import resolve
    from ..workspace import control

    home = resolve().home
    if args.action == "start":
        if args.foreground:
            from ..workspace.server import serve
            from ..workspace.tls import tls_requested

            return serve(home, args.port, tls=bool(tls_requested() if args.tls is None else args.tls))
        info = control.start(home, port=args.port, tls=args.tls)
        print(
            f"local workspace running at {info.base_url} (pid {info.pid}); token in {home / 'workspace' / 'admin-token'}"
        )
        if info.ca_file is not None:
            print(f"certificate authority: {info.ca_file}")
        return 0
    if args.action == "stop":
        print(
            "local workspace stopped"
            if control.stop(home, report=print)
            else "no local workspace was running"
        )
        return 0
    current = control.status(home)
    if current is None:
        print("no local workspace is running")
        return 3
    if args.action == "sdk-env":
        from ..workspace.sdk import sdk_environment

        print(sdk_environment(current))
        return 0
    print(f"local workspace running at {current.base_url} (pid {current.pid}, since {current.started_at})")
    print(f"workspace path: {current.workspace_path}")
    print(f"admin token: {current.token_hint} (in {home / 'workspace' / 'admin-token'})")
    if current.ca_file is not None:
        print(f"certificate authority: {current.ca_file} (HTTPS clients trust it)")
    return 0
