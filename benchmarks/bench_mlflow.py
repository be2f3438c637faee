"""The workspace as an MLflow tracking server: what logging costs a training script.

Against a local workspace started for the run (its own ``MLEP_HOME``), with the unmodified MLflow
client (mlflow-skinny) in this process, authenticated with the admin token:

- ``log_metric`` round trip: one ``MlflowClient.log_metric`` call (step and timestamp given), the
  median of ``--calls`` calls; target ≤ 5 ms;
- ``log_batch`` of 1,000 metrics: one ``MlflowClient.log_batch`` call with 1,000 values of one
  metric (1,000 steps), the median of ``--batches`` calls; target ≤ 0.5 s;
- the same ``runs/log-metric`` request posted over that session without MLflow's client;
- baseline: the round trip of the workspace's own ``GET /mlep/v1/info`` over a kept-alive
  ``requests`` session (the HTTP library MLflow's client uses), measured in the same run and
  interleaved with the ``log_metric`` calls, so the ratio says what the tracking handler and the
  client add to a bare authenticated request.

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_mlflow.py [--calls N] [--batches N]``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import print_table
from support.tracking import tracking_uri
from support.workspace import running_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="log_metric calls (and baseline requests)")
    parser.add_argument("--batches", type=int, default=20, help="log_batch calls of 1,000 metrics")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mlep-bench-mlflow-"))
    os.environ["MLEP_HOME"] = str(home)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    with running_workspace(home) as info:
        os.environ["MLFLOW_TRACKING_TOKEN"] = info.token
        import requests
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        client = MlflowClient(tracking_uri=tracking_uri(info))
        experiment_id = client.create_experiment("bench")
        run_id = client.create_run(experiment_id).info.run_id
        session = requests.Session()
        headers = {"Authorization": f"Bearer {info.token}"}
        info_url = f"{info.base_url}/mlep/v1/info"

        for step in range(20):  # warm up both paths (connections, imports, caches)
            client.log_metric(run_id, "warm", 0.0, step=step)
            session.get(info_url, headers=headers).raise_for_status()

        metric_ms, base_ms, raw_ms = [], [], []
        log_url = f"{tracking_uri(info)}/api/2.0/mlflow/runs/log-metric"
        now = int(time.time() * 1000)
        for step in range(args.calls):
            started = time.perf_counter()
            session.get(info_url, headers=headers).raise_for_status()
            base_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            client.log_metric(run_id, "loss", 1.0 / (step + 1), timestamp=now + step, step=step)
            metric_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            body = {"run_id": run_id, "key": "raw", "value": 0.5, "timestamp": now + step, "step": step}
            session.post(log_url, json=body, headers=headers).raise_for_status()
            raw_ms.append((time.perf_counter() - started) * 1000)

        batch_s = []
        for batch in range(args.batches):
            metrics = [Metric(f"curve{batch}", i / 1000, now + i, i) for i in range(1000)]
            started = time.perf_counter()
            client.log_batch(run_id, metrics=metrics)
            batch_s.append(time.perf_counter() - started)
        assert len(client.get_metric_history(run_id, "curve0")) == 1000
        assert len(client.get_metric_history(run_id, "loss")) == args.calls

    metric, base, batch = statistics.median(metric_ms), statistics.median(base_ms), statistics.median(batch_s)
    raw = statistics.median(raw_ms)
    print_table(
        "MLflow tracking in the local workspace",
        [
            ("log_metric round trip (p50)", f"{metric:.2f} ms", f"target ≤ 5 ms; {args.calls} calls"),
            ("baseline GET /mlep/v1/info (p50)", f"{base:.2f} ms", "same session library, interleaved"),
            ("log_metric / baseline", f"{metric / base:.2f}×", "what the handler and the client add"),
            ("raw POST runs/log-metric (p50)", f"{raw:.2f} ms", "the same request without MLflow's client"),
            (
                "log_batch of 1,000 metrics (p50)",
                f"{batch * 1000:.0f} ms",
                f"target ≤ 500 ms; {args.batches} calls",
            ),
            ("log_batch per metric", f"{batch:.3f} ms", "p50 / 1,000"),
        ],
    )


if __name__ == "__main__":
    main()
