"""Command jobs in the local workspace: submission to the script's first line, and job overhead.

Figures (medians of ``--runs`` jobs, environment cached, status polled every 10 ms over ARM):
- job submitted (the PUT sent) → the script's first line runs (it prints ``time.time()``): target
  ≤ 1 s on the process runtime, ≤ 3 s in a container (``--docker``);
- job overhead: the job's wall time (PUT sent → ``Completed`` seen) minus the script's own wall
  time (from its first to its last line, one second apart): target ≤ 1.5 s.

    .venv/bin/python benchmarks/bench_jobs.py [--runs 7] [--docker]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _common import print_table
from support.arm import HISTORY_PREFIX, Arm, job_environment
from support.samples import BASE_IMAGE
from support.workspace import running_workspace

SCRIPT = "python3 -c 'import time; print(time.time())'; sleep 1; python3 -c 'import time; print(time.time())'"


def _one(arm: Arm, env: str, properties: dict[str, str]) -> tuple[float, float]:
    name = f"bench-{uuid.uuid4().hex[:10]}"
    body = {
        "properties": {
            "jobType": "Command",
            "command": SCRIPT,
            "environmentId": env,
            "properties": properties,
        }
    }
    started = time.time()
    created = arm.put(f"/jobs/{name}", body)
    assert created.status_code == 201, created.text
    while (status := arm.get(f"/jobs/{name}").json()["properties"]["status"]) not in ("Completed", "Failed"):
        time.sleep(0.01)
    ended = time.time()
    assert status == "Completed", status
    log = arm.http.get(f"{HISTORY_PREFIX}{arm.url('')}/runs/{name}/logs/user_logs/std_log.txt").text.split()
    first, last = float(log[0]), float(log[1])
    return first - started, (ended - started) - (last - first)


def _measure(arm: Arm, env: str, runs: int, properties: dict[str, str]) -> tuple[list[float], list[float]]:
    _one(arm, env, properties)  # builds (or finds) the environment
    pairs = [_one(arm, env, properties) for _ in range(runs)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--docker", action="store_true", help="also measure jobs in containers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlep-bench-jobs-") as tmp:
        home = Path(tmp) / "home"
        os.environ.update(MLEP_HOME=str(home), MLEP_RUNTIME="process")
        os.environ.setdefault("MLEP_IMAGE_PREFIX", f"mlep-bench-{uuid.uuid4().hex[:6]}")
        rows = []
        with running_workspace(home) as info, Arm(info) as arm:
            env = job_environment(arm)
            first, overhead = _measure(arm, env, args.runs, {})
            rows += [
                (
                    "submitted → first line (process)",
                    f"{statistics.median(first) * 1000:.0f} ms",
                    "target ≤ 1 s",
                ),
                ("job overhead (process)", f"{statistics.median(overhead) * 1000:.0f} ms", "target ≤ 1.5 s"),
            ]
            if args.docker:
                image = arm.put("/environments/bench-image/versions/1", {"properties": {"image": BASE_IMAGE}})
                assert image.status_code in (200, 201), image.text
                first, overhead = _measure(arm, image.json()["id"], args.runs, {"mlep.runtime": "docker"})
                rows += [
                    (
                        "submitted → first line (Docker)",
                        f"{statistics.median(first) * 1000:.0f} ms",
                        "target ≤ 3 s",
                    ),
                    (
                        "job overhead (Docker)",
                        f"{statistics.median(overhead) * 1000:.0f} ms",
                        "target ≤ 1.5 s",
                    ),
                ]
        if args.docker:
            import docker

            client = docker.from_env()
            for image in client.images.list(name=os.environ["MLEP_IMAGE_PREFIX"]):
                for tag in image.tags:
                    client.images.remove(tag, force=True)
    print_table(f"Command jobs (medians of {args.runs})", rows)


if __name__ == "__main__":
    main()
