"""``%%job [NAME] --env conda.yml …``: the cell is the training script, run as a command job;
``%job run NAME --code DIR --script FILE …`` runs a script that is already written."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..._arguments import parse_env_vars
from ..._errors import UsageError
from .._context import Context
from .._environment import add_environment_arguments, environment_from_flags
from .._registry import Verb
from ._follow import add_wait_argument, finish

_EXAMPLE = "%%job train --env train-env.yml --input alpha=0.5 --output-name model --experiment diabetes"
_URI_PREFIXES = ("azureml:", "https://", "http://", "wasbs://", "abfss://")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="the job's name (default: a new one)")
    parser.add_argument(
        "--code", metavar="DIR", default="job-src", help="the code folder the cell is written to (job-src)"
    )
    parser.add_argument(
        "--script", metavar="FILE", default="train.py", help="the script in --code (train.py)"
    )
    add_environment_arguments(parser, build=False)
    parser.add_argument(
        "--input",
        action="append",
        metavar="NAME=VALUE",
        help="an input: a file, a folder, a URI, azureml:DATA:VERSION or a literal value (repeatable)",
    )
    parser.add_argument(
        "--output-name", action="append", metavar="NAME", help="a folder output of the job (repeatable)"
    )
    parser.add_argument("--compute", help="the compute to run on (azureml:NAME or NAME)")
    parser.add_argument("--experiment", help="the experiment (default: Default)")
    parser.add_argument("--env-var", action="append", metavar="NAME=VALUE", help="environment variable")
    parser.add_argument("--timeout", type=int, metavar="SECONDS", help="fail the job after this long")
    add_wait_argument(parser)


def _input(value: str) -> Any:
    """An input's spec: a local file or folder, a URI or data asset, else a literal."""
    if value.startswith(_URI_PREFIXES):
        kind = "uri_folder" if value.endswith("/") or value.count(":") == 2 else "uri_file"
        return {"type": kind, "path": value}
    path = Path(value).expanduser()
    if path.exists():
        return {"type": "uri_folder" if path.is_dir() else "uri_file", "path": str(path)}
    return value


def _pairs(items: list[str] | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--input {item!r} is not of the form NAME=VALUE.", hint=f"Example: {_EXAMPLE}")
        pairs[name.strip()] = value
    return pairs


def spec_from_flags(ctx: Context, args: argparse.Namespace) -> Any:
    """The command job the flags (and the cell) describe; the cell is written to ``--code/--script``."""
    from ...specs import spec_from_dict

    environment = environment_from_flags(args)
    if environment is None:
        raise UsageError(
            "%%job needs --env CONDA_YML, --env azureml:NAME:VERSION or --image IMAGE.", hint=_EXAMPLE
        )
    code = Path(args.code)
    script = code / args.script
    if ctx.cell is not None:
        if not ctx.cell.strip():
            raise UsageError("The %%job cell is empty: write the training script in it.", hint=_EXAMPLE)
        code.mkdir(parents=True, exist_ok=True)
        script.write_text(ctx.cell.rstrip() + "\n", encoding="utf-8")
    elif not script.is_file():
        raise UsageError(
            f"%job run: {script} does not exist.",
            hint="Give --code DIR and --script FILE of an existing script, or write it in a %%job cell.",
        )
    inputs = {name: _input(value) for name, value in _pairs(args.input).items()}
    outputs = {name: {"type": "uri_folder"} for name in args.output_name or []}
    words = [f"python {args.script}"]
    words += [f"--{name} ${{{{inputs.{name}}}}}" for name in inputs]
    words += [f"--{name} ${{{{outputs.{name}}}}}" for name in outputs]
    data: dict[str, Any] = {
        "type": "command",
        "command": " ".join(words),
        "code": str(code),
        "environment": environment,
        "inputs": inputs or None,
        "outputs": outputs or None,
        "compute": args.compute,
        "experiment_name": args.experiment,
        "environment_variables": parse_env_vars(args.env_var) if args.env_var else None,
        "limits": {"timeout": args.timeout} if args.timeout else None,
    }
    if args.name:
        data["name"] = args.name
    return spec_from_dict({k: v for k, v in data.items() if v is not None}, kind="commandJob")


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    spec = spec_from_flags(ctx, args)
    with ctx.client(args) as client:
        job = ops.create_job(client, spec, on_step=ctx.say)
        return finish(ctx, args, client, job)


VERB = Verb(
    name="run",
    help="run a script as a command job (%%job: the cell is the script)",
    examples=(
        _EXAMPLE,
        "%job run train-2 --code job-src --script train.py --env train-env.yml  # a script already written",
    ),
    arguments=_arguments,
    run=_run,
)
