"""From ``%endpoint deploy`` of a new deployment to its first score, through the magics.

Against a local workspace started for the run (process runtime, its own ``MLEP_HOME``), with the
Azure ML example model ``model-1``: the environment is built once first (cold, reported), then each
run deploys a new deployment (environment cached) and invokes it with ``--deployment``.
Figures: the median time to the first score, the HTTP requests a deploy makes, and the time from
``%endpoint deploy`` of changed code to a live deployment (a rolling update) to its first new answer.

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_deploy.py [--runs N]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import MODEL_1, MODEL_1_SCRIPT, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update(MLEP_HOME=str(folder / "home"), MLEP_RUNTIME="process", MLEP_TARGET="local")
        code = folder / "src"
        code.mkdir()
        (code / "score.py").write_text(MODEL_1_SCRIPT)
        request = MODEL_1 / "sample-request.json"

        from IPython.core.interactiveshell import InteractiveShell

        from jupyter_mlep.workspace import stop

        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "jupyter_mlep")

        def deploy_and_invoke(name: str, code_folder: Path) -> tuple[float, Any, Any]:
            """``%endpoint deploy`` of ``name`` then one invoke: (seconds, deploy result, answer)."""
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                result = shell.run_line_magic(
                    "endpoint",
                    f"deploy bench-ep {name} --model {MODEL_1 / 'model'} --code {code_folder} "
                    f"--scoring-script score.py --env {MODEL_1 / 'environment' / 'conda.yaml'}",
                )
                answer = shell.run_line_magic(
                    "endpoint", f"invoke bench-ep --deployment {name} --request-file {request}"
                )
            return time.perf_counter() - start, result, answer

        def deploy_and_score(name: str) -> tuple[float, int]:
            elapsed, result, answer = deploy_and_invoke(name, code)
            assert round(answer[0], 2) == 11055.98, answer
            return elapsed, result.requests

        def redeploy_code(version: int) -> float:
            """A code change of the live deployment ``cold``: deploy, then the first new answer."""
            changed = folder / f"src-{version}"
            changed.mkdir()
            (changed / "score.py").write_text(
                f"def init():\n    pass\n\n\ndef run(raw_data):\n    return {{'version': {version}}}\n"
            )
            elapsed, _, answer = deploy_and_invoke("cold", changed)
            assert answer == {"version": version}, answer
            return elapsed

        try:
            cold, cold_requests = deploy_and_score("cold")
            runs = [deploy_and_score(f"run-{i}") for i in range(args.runs)]
            redeploys = [redeploy_code(i) for i in range(args.runs)]
        finally:
            with contextlib.suppress(Exception):
                shell.run_line_magic("endpoint", "delete bench-ep")
            stop(folder / "home")

    times = [elapsed for elapsed, _ in runs]
    print_table(
        f"%endpoint deploy → first score (local workspace, process runtime; median of {args.runs})",
        [
            ("new deployment, environment cached", f"{statistics.median(times):.2f} s", "target ≤ 3 s"),
            ("HTTP requests of that deploy", f"{statistics.median([r for _, r in runs]):.0f}", ""),
            (
                "code redeploy of a live deployment (rolling) → first new answer",
                f"{statistics.median(redeploys):.2f} s",
                "target ≤ 2 s",
            ),
            (
                "first deployment, endpoint created, environment built",
                f"{cold:.1f} s",
                f"{cold_requests} requests",
            ),
        ],
    )


if __name__ == "__main__":
    main()
