"""Batch endpoints in the local workspace: throughput against a plain ``multiprocessing.Pool``, and
invocation to the first mini-batch running.

Figures (medians of ``--runs``; the environment cached, the input already in the datastore):
- throughput scoring 1,000 small CSV files (mini-batch 10, 2 workers), as a share of a plain
  ``multiprocessing.Pool(2)`` that imports the same scoring script, calls ``init()`` in each worker
  and ``run()`` on the same mini-batches of the same files, measured in the same run: the scoring
  phase (first mini-batch started → last one ended, from the job's per-mini-batch records; the
  pool's ``map`` once its workers' ``init()`` returned), target ≥ 80 %; and end to end (the POST →
  the job seen ``Completed``; the pool: created → closed);
- invocation (the POST sent) → the first mini-batch handed to a worker: target ≤ 2 s.

    .venv/bin/python benchmarks/bench_batch.py [--runs 3] [--files 1000]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import print_table
from support.arm import JOB_CONDA
from support.clients import make_client
from support.workspace import running_workspace

from jupyter_mlep import operations as ops
from jupyter_mlep.rest._services import read_log, run_details
from jupyter_mlep.specs import spec_from_dict

SCORE = """\
import csv
import os

def init():
    global weights
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.txt")) as handle:
        weights = [float(value) for value in handle.read().split()]

def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for index, row in enumerate(reader):
                score = sum(w * float(v) for w, v in zip(weights, row))
                rows.append(f"{os.path.basename(path)},{index},{score:.3f}")
    return rows
"""
_script: Any = None


def _pool_init(script: str, model_dir: str) -> None:
    global _script
    os.environ["AZUREML_MODEL_DIR"] = model_dir
    spec = importlib.util.spec_from_file_location("bench_score", script)
    assert spec is not None and spec.loader is not None
    _script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_script)
    _script.init()


def _pool_run(batch: list[str]) -> int:
    return len(_script.run(batch))


def _noop(_index: int) -> None:
    return None


def pool_baseline(script: Path, model: Path, files: list[str], size: int) -> tuple[float, float, float]:
    """(seconds from the pool's creation to every file scored, the scoring seconds once every worker's
    init() returned, seconds from the pool's creation to its close)."""
    batches = [files[i : i + size] for i in range(0, len(files), size)]
    started = time.perf_counter()
    with multiprocessing.Pool(2, _pool_init, (str(script), str(model.parent))) as pool:
        pool.map(_noop, range(2), chunksize=1)  # both workers started and initialised
        scoring = time.perf_counter()
        rows = sum(pool.map(_pool_run, batches, chunksize=1))
        ended = time.perf_counter()
    assert rows == len(files) * 10, rows
    return ended - started, ended - scoring, time.perf_counter() - started


def _logs(client: Any, job: str) -> tuple[list[dict[str, str]], float]:
    """The job's per-mini-batch records, and its driver's elapsed seconds (workers started → done)."""
    files = run_details(client, job).get("logFiles") or {}
    text = read_log(client, files["logs/sys/job_report/processed_mini-batches.csv"]).text
    overview = read_log(client, files["logs/job_progress_overview.txt"]).text
    elapsed = next(line for line in overview.splitlines() if line.startswith("Elapsed seconds: "))
    return list(csv.DictReader(io.StringIO(text))), float(elapsed.split(": ", 1)[1])


def batch_run(client: Any, endpoint: str, uri: str, count: int) -> tuple[float, float, float, float]:
    """(driver seconds, scoring seconds from the first mini-batch, POST → Completed seconds, POST →
    first mini-batch handed out seconds)."""
    posted = time.time()
    job = ops.invoke_batch(client, endpoint, uri, wait=False)
    while not (job := ops.get_batch_job(client, job.name, download=False)).ended:
        time.sleep(0.02)
    ended = time.time()
    assert job.status == "Completed", job.text()
    records, driver = _logs(client, job.name)
    assert sum(int(r["succeeded"]) for r in records) == count, f"{len(records)} mini-batches"
    starts, ends = [float(r["start"]) for r in records], [float(r["end"]) for r in records]
    return driver, max(ends) - min(starts), ended - posted, min(starts) - posted


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlep-bench-batch-") as tmp:
        root = Path(tmp)
        os.environ.update(MLEP_HOME=str(root / "home"), MLEP_RUNTIME="process")
        (root / "model").mkdir()
        (root / "model" / "weights.txt").write_text("0.5 -1.0 2.0 0.25 1.5")
        (root / "src").mkdir()
        (root / "src" / "score.py").write_text(SCORE)
        (root / "conda.yml").write_text(JOB_CONDA)
        data = root / "data"
        data.mkdir()
        for index in range(args.files):
            lines = ["a,b,c,d,e"] + [",".join(str((index + r * c) % 7) for c in range(5)) for r in range(10)]
            (data / f"part-{index:04d}.csv").write_text("\n".join(lines) + "\n")
        files = sorted(str(path) for path in data.iterdir())
        endpoint = f"bench-{uuid.uuid4().hex[:6]}"
        spec: Any = spec_from_dict(
            {
                "name": "blue",
                "endpoint_name": endpoint,
                "model": {"path": str(root / "model" / "weights.txt")},
                "code_configuration": {"code": str(root / "src"), "scoring_script": "score.py"},
                "environment": {"image": "python:3.11-slim", "conda_file": str(root / "conda.yml")},
                "mini_batch_size": 10,
                "max_concurrency_per_instance": 2,
            },
            kind="batchDeployment",
        )
        with running_workspace(root / "home") as info, make_client(info) as client:
            ops.deploy_batch(client, spec)
            uri, _sent = ops.upload_local(client, data)
            batch_run(client, endpoint, uri, args.files)  # builds (or finds) the environment
            pool_work, pool_scoring, pool_total, work, scoring, total, first = [], [], [], [], [], [], []
            for _ in range(args.runs):  # alternate, so that both see the same machine
                done, seconds, whole = pool_baseline(
                    root / "src" / "score.py", root / "model" / "weights.txt", files, 10
                )
                pool_work.append(done)
                pool_scoring.append(seconds)
                pool_total.append(whole)
                driver, seconds, whole, to_first = batch_run(client, endpoint, uri, args.files)
                work.append(driver)
                scoring.append(seconds)
                total.append(whole)
                first.append(to_first)
            ops.delete_batch_endpoint(client, endpoint)
    med = statistics.median
    rows = [
        (
            f"throughput, {args.files} CSV files, mini-batch 10, 2 workers: workers started → every file scored "
            "(share of a Pool(2): created → map done)",
            f"{args.files / med(work):.0f} files/s ({med(pool_work) / med(work) * 100:.0f} %; Pool "
            f"{args.files / med(pool_work):.0f} files/s; {med(work):.2f} s vs {med(pool_work):.2f} s)",
            "target ≥ 80 %",
        ),
        (
            "the same from the first mini-batch (the Pool: once both workers' init() returned)",
            f"{args.files / med(scoring):.0f} files/s ({med(pool_scoring) / med(scoring) * 100:.0f} %; Pool "
            f"{args.files / med(pool_scoring):.0f} files/s)",
            "",
        ),
        (
            "the same end to end: POST → Completed (Pool: created → closed)",
            f"{med(total):.2f} s ({med(pool_total) / med(total) * 100:.0f} %; Pool {med(pool_total):.2f} s)",
            "",
        ),
        (
            "invocation (POST) → first mini-batch handed to a worker, environment cached",
            f"{med(first):.2f} s (max {max(first):.2f} s)",
            "target ≤ 2 s",
        ),
    ]
    print_table(f"Batch endpoints (medians of {args.runs})", rows)


if __name__ == "__main__":
    main()
