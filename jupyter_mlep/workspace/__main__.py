"""``python -m jupyter_mlep.workspace serve [--home H] [--port P] [--tls]``: the server in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlep.workspace")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="run the local workspace server in the foreground")
    serve_parser.add_argument("--home", type=Path, default=None, help="MLEP_HOME (default: the setting)")
    serve_parser.add_argument(
        "--port", type=int, default=None, help="port on 127.0.0.1 (default: last or free)"
    )
    serve_parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS (certificate in $MLEP_HOME/tls)"
    )
    args = parser.parse_args(argv)
    from .server import serve

    home = args.home
    if home is None:
        from ..settings import resolve

        home = resolve().home
    return serve(home, args.port, tls=args.tls)


if __name__ == "__main__":
    sys.exit(main())
