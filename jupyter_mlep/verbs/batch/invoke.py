"""``%batch invoke NAME --input ./data [--deployment D] [overrides] [--no-wait]``."""

from __future__ import annotations

import argparse
from typing import Any

from ..._arguments import positive_int
from .._context import Context
from .._registry import Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the batch endpoint")
    parser.add_argument(
        "--input",
        required=True,
        help="a local folder or file (uploaded first), azureml://datastores/…/paths/…, or azureml:DATA:VERSION",
    )
    parser.add_argument("--deployment", help="score with this deployment (default: the endpoint's default)")
    parser.add_argument("--mini-batch-size", type=positive_int, metavar="N", help="files per run() call")
    parser.add_argument("--instance-count", type=positive_int, metavar="N", help="instances for this job")
    parser.add_argument("--error-threshold", type=int, metavar="N", help="failed files tolerated (-1: any)")
    parser.add_argument("--max-retries", type=int, metavar="N", help="tries again of a failed mini-batch")
    parser.add_argument("--timeout", type=positive_int, metavar="SECONDS", help="time allowed per mini-batch")
    parser.add_argument(
        "--output-file-name", metavar="FILE", help="the output file (default the deployment's)"
    )
    parser.add_argument("--job-name", metavar="JOB", help="the job's name (default: a new one)")
    parser.add_argument(
        "--no-wait", action="store_true", help="return once the job is created (a live widget follows it)"
    )


def _run(ctx: Context, args: argparse.Namespace) -> Any:
    from ... import operations as ops

    options = {
        "deployment": args.deployment,
        "mini_batch_size": args.mini_batch_size,
        "instance_count": args.instance_count,
        "error_threshold": args.error_threshold,
        "max_retries": args.max_retries,
        "timeout": args.timeout,
        "output_file_name": args.output_file_name,
        "job_name": args.job_name,
    }
    with ctx.client(args) as client:
        job = ops.invoke_batch(client, args.name, args.input, wait=False, on_step=ctx.say, **options)
    if ctx.magic:
        from ...widgets.batch import watch_batch

        return watch_batch(ctx.mode, lambda: ctx.client(args), job, wait=not args.no_wait, say=ctx.say)
    if args.no_wait:
        return job
    with ctx.client(args) as client:
        return ops.follow_batch_job(client, job)


VERB = Verb(
    name="invoke",
    help="score a folder of files: a batch job (r.output is a DataFrame when small, else a path)",
    examples=(
        "%batch invoke my-batch --input ./data",
        "%batch invoke my-batch --input ./data --deployment green --error-threshold 0 --output-file-name green.csv",
        "%batch invoke my-batch --input ./data --mini-batch-size 1 --no-wait  # a live widget in JupyterLab",
        "%batch invoke my-batch --input azureml:my-files:1  # a registered data asset",
    ),
    arguments=_arguments,
    run=_run,
)
