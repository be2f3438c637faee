"""``%%score_script [PATH] [--model-dir DIR] [--test REQUEST] [--no-check] [--env-var K=V ...]``.

``%%writefile`` plus validation: writes the cell to PATH, checks it against the Azure ML inference
server contract and, with ``--test``, runs ``init()`` and ``run(REQUEST)`` in a fresh process
(``--in-kernel``: in the kernel itself, so JupyterLab's debugger and ``%debug`` reach the script).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._arguments import ArgumentParser, HelpShown, add_score_script_arguments, parse_env_vars
from .._errors import UsageError
from ..scoring import ScoreScript, check_score_script, read_request, resolve_model_dir
from ..verbs import expand_words, split_line

if TYPE_CHECKING:
    from . import MlepMagics


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="%%score_script",
        description="Write the cell to a scoring script, check it and optionally smoke-test it.",
    )
    add_score_script_arguments(parser, magic=True)
    return parser


def run(magics: MlepMagics, line: str, cell: str, local_ns: dict[str, Any]) -> ScoreScript | None:
    """Run ``%%score_script``; returns the checked script (displayed as the cell's result)."""
    words, objects = expand_words(split_line(line, "%%score_script"), local_ns, payloads=("--test",))
    try:
        args = _parser().parse_args(words)
    except HelpShown:
        return None
    path = args.path or "score.py"
    if args.in_kernel and (args.test is None or args.python):
        raise UsageError(
            "%%score_script --in-kernel runs the --test in this kernel: it needs --test and takes no --python.",
            hint="E.g. %%score_script score.py --test '{\"data\": [1]}' --in-kernel",
        )
    env_vars = parse_env_vars(args.env_var)
    if args.test is None:
        request = None
    else:  # a $variable's value as it is, else a file or literal JSON
        request = objects[args.test] if args.test in objects else read_request(args.test)
    model_dir = resolve_model_dir(args.model_dir)
    _write(Path(path).expanduser(), path, cell)
    return check_score_script(
        path,
        model_dir=model_dir,
        request=request,
        static=not args.no_check,
        env_vars=env_vars,
        python=args.python,
        timeout=args.timeout,
        progress=print,
        in_kernel=args.in_kernel,
    )


def _write(path: Path, shown: str, cell: str) -> None:
    """Write the cell like ``%%writefile`` does, creating missing parent folders."""
    if path.is_dir():
        raise UsageError(f"%%score_script: {shown} is a folder.", hint="Give the file name, e.g. score.py")
    print(f"{'Overwriting' if path.exists() else 'Writing'} {shown}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cell, encoding="utf-8")
