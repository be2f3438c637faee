"""``jupyter-mlep demo``: run the quickstart recipe against the local workspace and show what it did.

It trains a small scikit-learn model, deploys it behind a local endpoint, scores it, shows its
logs and deletes it (a few seconds with a warm environment cache, about a minute the first time).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .recipe import DEFAULT_OUTPUT_DIR

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--output DIR``, ``--notebook PATH``."""
    parser.add_argument(
        "--output",
        "-o",
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help=f"folder for the executed notebook (default {DEFAULT_OUTPUT_DIR}/)",
    )
    parser.add_argument(
        "--notebook",
        default=str(_EXAMPLES / "quickstart.ipynb"),
        help="the quickstart recipe (default: examples/quickstart.ipynb of this source tree)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the quickstart against ``local`` and print its summary."""
    import sys

    from .._errors import UsageError
    from ..recipes import run_recipe
    from .recipe import report

    if not Path(args.notebook).is_file():
        raise UsageError(
            f"The quickstart recipe is not at {args.notebook}.",
            hint='Run the demo from a clone (pip install -e ".[examples]"), or pass --notebook PATH.',
        )
    # The demo needs neither Docker nor a registry: deployments run as local processes unless
    # the user chose otherwise (a workspace already running keeps its own runtime).
    env = {} if os.environ.get("MLEP_RUNTIME") else {"MLEP_RUNTIME": "process"}
    result = run_recipe(
        args.notebook,
        {"target": "local"},
        output_dir=args.output,
        env={**env, "MLEP_TARGET": "local"},
        progress=lambda text: print(text, file=sys.stderr, flush=True),
    )
    return report(result)
