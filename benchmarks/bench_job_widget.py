"""How soon a metric logged in a job is drawn in the job widget.

Against a local workspace started for the run (process runtime, its own ``MLEP_HOME``): a command
job (unmodified ``mlflow-skinny``) logs a metric every 0.6 to 1.0 s (spacing varied so that the
logs do not lock onto the widget's polls); the value it logs is ``time.time()`` read just before
``mlflow.log_metric``. A :class:`~jupyter_mlep.widgets.JobWidget` (default poll interval, no front
end: ipywidgets still set their traits) follows the job; each time its ``metrics`` trait changes
(which happens once the chart has been redrawn) the delay is now minus the logged value of the
newest step. Same machine, same clock.

- metric logged → drawn in the widget: median and 90th percentile (target ≤ 1 s);
- baselines measured in the same run: one run-details round trip (what each poll starts with),
  one whole poll of the widget's reads (run details, log, MLflow run, one metric's history), and
  drawing one chart (matplotlib PNG, 20 points);
- kernel cost of following a quiet job: this process's CPU time (all threads) over
  ``--idle-seconds`` while a widget follows a job that runs but writes nothing, minus the same time
  without a widget; as a share of one core (the first minute: the poller slows down after it).

    .venv/bin/python benchmarks/bench_job_widget.py [--values 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import print_table
from support.workspace import running_workspace

CONDA = "name: bench\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow-skinny\n"
SCRIPT = """\
import random
import sys
import time

import mlflow

values = int(sys.argv[1])
mlflow.log_metric("warmup", 0.0)
time.sleep(2.0)
for step in range(values):
    mlflow.log_metric("logged_at", time.time(), step=step)
    time.sleep(random.uniform(0.6, 1.0))
print("done")
"""


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=15, help="metric values the job logs")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlep-bench-jobwidget-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        os.environ.update(MLEP_HOME=str(home), MLEP_RUNTIME="process", MLEP_TARGET="local")
        from jupyter_mlep import operations as ops
        from jupyter_mlep.charts import metric_chart_png
        from jupyter_mlep.operations._job_runs import metric_series
        from jupyter_mlep.rest._services import read_log, run_data, run_details
        from jupyter_mlep.specs import spec_from_dict
        from jupyter_mlep.widgets import JobWidget

        (folder / "conda.yml").write_text(CONDA)
        code = folder / "src"
        code.mkdir()
        (code / "bench.py").write_text(SCRIPT)

        def submit(name: str, values: int) -> Any:
            spec = spec_from_dict(
                {
                    "type": "command",
                    "name": name,
                    "command": f"python bench.py {values}",
                    "code": str(code),
                    "environment": {"conda_file": str(folder / "conda.yml"), "image": "python:3.11"},
                },
                kind="commandJob",
            )
            return ops.create_job(client, spec)

        with running_workspace(home), ops.connect() as client:
            ops.wait_for_job(client, submit("bench_warm", 1).name, timeout=600)  # builds the environment

            job = submit("bench_widget", args.values)
            delays: list[float] = []
            lock = threading.Lock()

            def changed(change: dict[str, Any]) -> None:
                seen = time.time()
                entry = (change["new"] or {}).get("logged_at")
                if entry:
                    with lock:
                        delays.append(seen - float(entry["value"]))

            widget = JobWidget(ops.connect, job.name, job=job)
            widget.observe(changed, "metrics")
            assert widget.poller is not None
            widget.poller.join(600)
            widget.close()
            assert widget.state == "Completed", (widget.state, widget.error)
            assert widget.metrics["logged_at"]["count"] == args.values, widget.metrics

            # Baselines, in the same run, against the same (ended) job.
            details_rtt, poll_cost, chart_cost = [], [], []
            files = run_details(client, job.name)["logFiles"]
            points = [(step, float(step) ** 0.5) for step in range(20)]
            for index in range(20):
                started = time.perf_counter()
                run_details(client, job.name)
                details_rtt.append(time.perf_counter() - started)
                started = time.perf_counter()
                run_details(client, job.name)
                for url in files.values():
                    read_log(client, url, 10_000_000)
                run_data(client, job.name)
                metric_series(client, job.name, "logged_at")  # one history per changed metric
                poll_cost.append(time.perf_counter() - started)
                started = time.perf_counter()
                metric_chart_png(f"bench-{index}", points)  # a new chart each time (no cache)
                chart_cost.append(time.perf_counter() - started)

            # Kernel cost of following a quiet job.
            (code / "quiet.py").write_text("import time\nprint('quiet', flush=True)\ntime.sleep(600)\n")
            quiet = ops.create_job(
                client,
                spec_from_dict(
                    {
                        "type": "command",
                        "name": "bench_quiet",
                        "command": "python quiet.py",
                        "code": str(code),
                        "environment": {"conda_file": str(folder / "conda.yml"), "image": "python:3.11"},
                    },
                    kind="commandJob",
                ),
            )
            while ops.get_job(client, quiet.name).status != "Running":
                time.sleep(0.1)

            def cpu_share(follow: bool) -> float:
                widget = JobWidget(ops.connect, quiet.name, follow=follow)
                time.sleep(1.0)  # past the first poll (the job's description, matplotlib warm)
                started_cpu, started = time.process_time(), time.monotonic()
                time.sleep(args.idle_seconds)
                share = (time.process_time() - started_cpu) / (time.monotonic() - started)
                widget.close()
                return share

            idle_without = cpu_share(False)
            idle_with = cpu_share(True)
            ops.cancel_job(client, quiet.name)

    delays.sort()
    p90 = delays[min(len(delays) - 1, int(len(delays) * 0.9))]
    print_table(
        f"Job widget ({len(delays)} metric values, poll interval 0.5 s)",
        [
            ("metric logged → drawn in the widget (median)", _ms(delays), "target ≤ 1 s"),
            ("metric logged → drawn in the widget (p90)", f"{p90 * 1000:.0f} ms", ""),
            ("baseline: one run-details round trip", _ms(details_rtt), "median of 20"),
            ("baseline: one poll's reads (details, log, run, history)", _ms(poll_cost), "median of 20"),
            ("baseline: drawing one chart (20 points, PNG)", _ms(chart_cost), "median of 20"),
            (
                "kernel CPU while the widget follows a quiet job",
                f"{(idle_with - idle_without) * 100:.2f} % of a core",
                f"over {args.idle_seconds:.0f} s, first minute (0.5 s polls)",
            ),
        ],
    )


if __name__ == "__main__":
    main()
