"""Does ``%endpoint profile`` measure what an independent tool measures, and what does it cost?

The fixture model-1 (scikit-learn) deployed on a local workspace (process runtime), loaded
through the router with N connections in turns by the profiler and by ``wrk`` (Debian's
package, C, one thread), ROUNDS times. Figures (medians):
- p50 latency and throughput of each, and their ratios (target: within 10 %);
- the load generators' own CPU time per request (the profiler's thread, wrk's process);
- a fixed rate (``--rps``): the rate reached against the rate asked.

``run()`` predicts with model-1 and then waits ``--work-ms`` (default 20 ms, a typical model's
time; ``--work-ms 0`` is the worst case for the comparison: a 1 ms model, where the generators'
own costs weigh most).

Run: ``.venv/bin/python benchmarks/bench_profile.py [--rounds 5] [--seconds 5] [--connections 4]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _common import MODEL_1, print_table
from support.endpoints import script_deployment
from support.samples import SCORE_MODEL_1, sample_request
from support.workspace import process_workspace
from support.wrk import wrk

from jupyter_mlep import operations as ops
from jupyter_mlep.rest import RestClient
from jupyter_mlep.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rps", type=float, default=30.0)
    parser.add_argument(
        "--work-ms", type=float, default=20.0, help="time run() waits besides predicting (0: model-1 alone)"
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mlep-bench-profile-"))
    code = Path(tempfile.mkdtemp(prefix="mlep-bench-profile-code-"))
    script = SCORE_MODEL_1.replace(
        "def run(raw_data):\n", f"def run(raw_data):\n    time.sleep({args.work_ms / 1000!r})\n"
    )
    (code / "score.py").write_text("import time\n" + script)
    request = sample_request()
    envs = Path(tempfile.gettempdir()) / "mlep-bench-envs"
    with process_workspace(home, envs), RestClient.from_settings(Settings(home=home, target="local")) as rest:
        spec = script_deployment(MODEL_1, code, "bench-profile")
        ops.create_endpoint(rest, "bench-profile")
        ops.deploy(rest, spec, timeout=900)
        uri = str(ops.get_endpoint(rest, "bench-profile").scoring_uri)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {ops.get_keys(rest, 'bench-profile').primary_key}",
            "azureml-model-deployment": "blue",
        }
        body = json.dumps(request).encode()
        wrk(uri, headers, body, connections=args.connections, seconds=2)  # warm up
        ours: list[tuple[float, float, float]] = []
        theirs: list[tuple[float, float, float]] = []
        for _ in range(args.rounds):  # in turns, so both see the same machine
            result = ops.profile(
                rest,
                "bench-profile",
                "blue",
                [request],
                concurrency=[args.connections],
                duration=args.seconds,
            )
            level = result.levels[0]
            ours.append((level.latency_ms["p50"], level.throughput, result.client_cpu_ms_per_request))
            run = wrk(uri, headers, body, connections=args.connections, seconds=args.seconds)
            theirs.append((run.p50_ms, run.throughput, 1000 * run.cpu_seconds / max(run.requests, 1)))
        fixed = ops.profile(rest, "bench-profile", "blue", [request], rps=args.rps, duration=args.seconds)
    med = [statistics.median(v[i] for v in ours) for i in range(3)]
    ref = [statistics.median(v[i] for v in theirs) for i in range(3)]
    note = (
        f"median of {args.rounds} × {args.seconds:g} s, {args.connections} connections, router, "
        f"run() = model-1 + {args.work_ms:g} ms"
    )
    print_table(
        "Profiler against wrk (fixture model-1)",
        [
            ("p50 profiler / wrk", f"{med[0]:.2f} / {ref[0]:.2f} ms", note),
            ("p50 ratio", f"{med[0] / ref[0]:.3f}", "target 0.90–1.10"),
            ("throughput profiler / wrk", f"{med[1]:.1f} / {ref[1]:.1f} req/s", note),
            ("throughput ratio", f"{med[1] / ref[1]:.3f}", "target 0.90–1.10"),
            ("generator CPU per request: profiler", f"{med[2]:.3f} ms", "its thread's CPU time"),
            ("generator CPU per request: wrk", f"{ref[2]:.3f} ms", "its process's CPU time"),
            (
                f"fixed rate {args.rps:g} req/s: reached",
                f"{fixed.levels[0].throughput:.1f} req/s",
                f"p50 {fixed.levels[0].latency_ms['p50']:.2f} ms",
            ),
        ],
    )


if __name__ == "__main__":
    main()
