"""``jupyter-mlep check-score PATH [--model-dir DIR] [--test REQUEST] [--env-var K=V ...]``."""

from __future__ import annotations

import argparse
import sys

from .._arguments import add_score_script_arguments, parse_env_vars
from ..scoring import check_score_script, read_request


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared with ``%%score_script``."""
    add_score_script_arguments(parser, magic=False)


def run(args: argparse.Namespace) -> int:
    """Check (and with --test, smoke-test) the script; print the report. Failures raise."""
    env_vars = parse_env_vars(args.env_var)
    request = read_request(args.test) if args.test is not None else None
    script = check_score_script(
        args.path,
        model_dir=args.model_dir,
        request=request,
        env_vars=env_vars,
        python=args.python,
        timeout=args.timeout,
        progress=lambda message: print(message, file=sys.stderr),
    )
    print(script)
    return 0
