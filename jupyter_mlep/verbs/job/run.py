"""``%%job [NAME] --env conda.yml …``: the cell is the training script, run as a command job;
``%job run NAME --code DIR --script FILE …`` runs a script that is already written."""

from __future__ import annotations

import argparse
import ast
import re
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
    parser.add_argument(
        "--timeout", type=int, metavar="SECONDS", help="fail the job (end the sweep) after this long"
    )
    sweep = parser.add_argument_group("sweep (any --sweep makes the job a sweep over the script)")
    sweep.add_argument(
        "--sweep",
        action="append",
        metavar="NAME=EXPR",
        help='a search-space parameter, e.g. "lr=loguniform(-6,-1)" or "n=choice(16,32,64)" (repeatable); '
        "the script gets --NAME VALUE",
    )
    sweep.add_argument("--primary-metric", metavar="METRIC", help="the metric the script logs with MLflow")
    sweep.add_argument("--goal", default="maximize", help="maximize (default) or minimize the metric")
    sweep.add_argument("--sampling", default="random", help="random (default), grid or bayesian")
    sweep.add_argument("--seed", type=int, help="the random sampling's seed (reproducible trials)")
    sweep.add_argument("--max-trials", type=int, metavar="N", help="at most N trials")
    sweep.add_argument("--concurrent", type=int, metavar="N", help="at most N trials at once")
    sweep.add_argument("--trial-timeout", type=int, metavar="SECONDS", help="stop a trial after this long")
    sweep.add_argument(
        "--policy",
        metavar="KIND[:KEY=VALUE,…]",
        help="early termination: bandit:slack_factor=0.1,evaluation_interval=1, median_stopping, "
        "truncation_selection:truncation_percentage=20",
    )
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
    space = _search_space(args.sweep) if args.sweep else {}
    words += [f"--{name} ${{{{search_space.{name}}}}}" for name in space]
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
    if space:
        return spec_from_dict(_sweep_data(args, data, space), kind="sweepJob")
    return spec_from_dict({k: v for k, v in data.items() if v is not None}, kind="commandJob")


_EXPRESSION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([A-Za-z_]+)\s*\((.*)\)\s*$", re.DOTALL)
_SWEEP_EXAMPLE = '%%job --env env.yml --sweep "lr=loguniform(-6,-1)" --primary-metric auc --max-trials 20'


def _literals(text: str, what: str) -> list[Any]:
    try:
        value = ast.literal_eval(f"[{text}]")
    except (ValueError, SyntaxError):
        raise UsageError(
            f"{what}: {text!r} is not a list of numbers or quoted strings.", hint=_SWEEP_EXAMPLE
        ) from None
    return list(value)


def _search_space(items: list[str]) -> dict[str, Any]:
    """``NAME=EXPR`` items as the spec's search space."""
    from ..._errors import SpecError
    from ...specs import SearchParameter

    space: dict[str, Any] = {}
    for item in items:
        match = _EXPRESSION.match(item)
        if not match:
            raise UsageError(f"--sweep {item!r} is not of the form NAME=EXPR(ARGS).", hint=_SWEEP_EXAMPLE)
        name, kind, inner = match.group(1), match.group(2), match.group(3)
        try:
            space[name] = SearchParameter.from_arguments(kind, _literals(inner, f"--sweep {name}"))
        except SpecError as exc:
            raise UsageError(f"--sweep {item!r}: {exc.message}", hint=exc.hint) from None
    return space


def _policy(text: str) -> dict[str, Any]:
    kind, _, rest = text.partition(":")
    policy: dict[str, Any] = {"type": kind.strip()}
    for pair in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(
                f"--policy {text!r}: {pair!r} is not KEY=VALUE.",
                hint="Example: bandit:slack_factor=0.1,evaluation_interval=1",
            )
        policy[key.strip()] = _literals(value, f"--policy {key.strip()}")[0]
    return policy


def _sweep_data(args: argparse.Namespace, data: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """The sweep job of the flags: the command job's data as its trial."""
    if not args.primary_metric:
        raise UsageError("A sweep needs --primary-metric: the metric the script logs.", hint=_SWEEP_EXAMPLE)
    trial = {k: data.get(k) for k in ("command", "code", "environment", "environment_variables")}
    limits = {
        "max_total_trials": args.max_trials,
        "max_concurrent_trials": args.concurrent,
        "timeout": args.timeout,
        "trial_timeout": args.trial_timeout,
    }
    sweep = {
        "type": "sweep",
        "name": data.get("name"),
        "trial": {k: v for k, v in trial.items() if v is not None},
        "inputs": data.get("inputs"),
        "outputs": data.get("outputs"),
        "compute": data.get("compute"),
        "experiment_name": data.get("experiment_name"),
        "search_space": space,
        "sampling_algorithm": {
            "type": args.sampling,
            **({"seed": args.seed} if args.seed is not None else {}),
        },
        "objective": {"primary_metric": args.primary_metric, "goal": args.goal},
        "limits": {k: v for k, v in limits.items() if v is not None} or None,
        "early_termination": _policy(args.policy) if args.policy else None,
    }
    return {k: v for k, v in sweep.items() if v is not None}


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
        '%%job tune --env train-env.yml --sweep "lr=loguniform(-6,-1)" --sweep "n=choice(16,32,64)" '
        "--primary-metric auc --goal maximize --max-trials 20 --concurrent 2 "
        "--policy bandit:slack_factor=0.1,evaluation_interval=1  # a sweep",
    ),
    arguments=_arguments,
    run=_run,
)
