"""``jupyter-mlep recipe run NOTEBOOK [-p NAME VALUE …] [--output DIR]``: run a notebook recipe.

Prints the run's summary (deployments, traffic, invoke results, rollout verdicts) and the path of
the executed notebook; exits with status 1 naming the failed step and the error of its cell.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..recipes import RecipeResult

# jupyter_mlep.recipes.DEFAULT_OUTPUT_DIR (not imported here: that keeps --help fast)
DEFAULT_OUTPUT_DIR = "recipe-runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``run NOTEBOOK -p NAME VALUE … --output DIR --kernel NAME --cell-timeout S``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    run = actions.add_parser(
        "run",
        help="run a notebook recipe with papermill (static output, unique run_id, kept output notebook)",
        description="Run a notebook recipe with papermill. Example: jupyter-mlep recipe run "
        "examples/quickstart.ipynb -p target local --output recipe-runs/",
    )
    run.add_argument("notebook", metavar="NOTEBOOK", help="the recipe (.ipynb)")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="a parameter (repeatable); VALUE is read as a number, True/False/None, or text",
    )
    run.add_argument(
        "-r",
        "--raw-parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="a parameter kept as text (repeatable)",
    )
    run.add_argument(
        "--output",
        "-o",
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help=f"folder for the executed notebook and the run's files (default {DEFAULT_OUTPUT_DIR}/)",
    )
    run.add_argument("--run-id", help="the run's unique suffix (default: a new random one)")
    run.add_argument("--kernel", help="an installed kernel (default: this Python interpreter)")
    run.add_argument(
        "--cell-timeout", type=float, default=1800.0, metavar="S", help="fail a cell after S seconds"
    )
    run.add_argument("--log-output", action="store_true", help="also stream the cells' output to stderr")


def parse_value(text: str) -> Any:
    """A parameter value from the command line, read the way papermill's ``-p`` reads it."""
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if text in ("None", "none"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def report(result: RecipeResult) -> int:
    """Print the summary (stdout) and the failure (stderr); the exit status."""
    print(result.summary(), flush=True)
    if result.failure is not None:
        print(f"error: {result.failure}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the recipe and report."""
    from ..recipes import RecipeError, run_recipe

    parameters: dict[str, Any] = {name: parse_value(value) for name, value in args.parameter}
    parameters.update({name: value for name, value in args.raw_parameter})
    try:
        result = run_recipe(
            args.notebook,
            parameters,
            output_dir=args.output,
            run_id=args.run_id,
            kernel_name=args.kernel,
            cell_timeout=args.cell_timeout,
            log_output=args.log_output,
            progress=lambda text: print(text, file=sys.stderr, flush=True),
        )
    except RecipeError as error:  # a failed step: the summary, then the step and its error
        return report(error.result)
    return report(result)
