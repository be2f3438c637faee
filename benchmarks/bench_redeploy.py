"""Redeploy loop on fixture model-1: from a changed scoring script to the first response reflecting it.

Baselines measured in the same run: a cold restart of azmlinfsrv on the same environment (process),
and an image rebuild plus a new container (what the Azure ML CLI does for a local endpoint; docker).
Targets: process ≤ 0.6 s median and ≥ 4× faster than the cold restart; Docker ≤ 3 s and ≥ 10×
faster than the rebuild path.

    .venv/bin/python benchmarks/bench_redeploy.py [--runs 5] [--backends process,docker]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import docker
from _runtime import fmt, median, setup_home, show, spec_for, tempdir, timed, wait_for_version, write_score

from jupyter_mlep.runtime import Backend, get_backend
from jupyter_mlep.runtime._health import free_port
from jupyter_mlep.runtime.agent import GUNICORN_CONF


def redeploys(backend: Backend, code: Path, runs: int) -> list[float]:
    """Times of ``runs`` code changes picked up through ``backend.update``."""
    spec = spec_for(code)
    info = backend.start(spec)
    port = info.instances[0].port
    wait_for_version(port, 0)
    time.sleep(3)  # let the launcher finish importing the environment's packages
    values = []
    for version in range(1, runs + 1):
        write_score(code, version)

        def change(v: int = version) -> None:
            backend.update(spec)
            wait_for_version(port, v)

        values.append(timed(change))
    backend.stop("bench", "bench")
    return values


def cold_restarts(backend: Backend, code: Path, runs: int) -> list[float]:
    """Times of a plain azmlinfsrv restart on the same (cached) virtual environment."""
    prepared = backend.prepare_environment(spec_for(code).environment)
    azmlinfsrv = str(Path(prepared.python).parent / "azmlinfsrv")
    model_dir = tempdir("mlep-bench-models-")
    (model_dir / "model").symlink_to(spec_for(code).model or "", target_is_directory=True)
    values = []
    for version in range(100, 100 + runs):
        write_score(code, version)
        port = free_port()
        env = {
            "PATH": f"{Path(azmlinfsrv).parent}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/root"),
            "AZUREML_MODEL_DIR": str(model_dir),
            "MLEP_GUNICORN_BIND": f"127.0.0.1:{port}",  # keep even the baseline on loopback
            "GUNICORN_CMD_ARGS": f"-c {GUNICORN_CONF}",
            "MLEP_SERVER_CWD": str(code),
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [azmlinfsrv, "--entry_script", str(code / "score.py"), "--port", str(port)],
            cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_version(port, version)
            values.append(time.perf_counter() - started)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    shutil.rmtree(model_dir, ignore_errors=True)
    return values


def rebuilds(backend: Backend, code: Path, runs: int) -> list[float]:
    """Times of an image rebuild plus a new container, as the Azure ML CLI does on every update."""
    spec = spec_for(code)
    values = []
    client = docker.from_env(timeout=300)
    for version in range(200, 200 + runs):
        write_score(code, version)
        prepared = backend.prepare_environment(spec.environment)
        client.images.remove(prepared.location, force=True)

        def rebuild(v: int = version) -> None:
            info = backend.start(spec)
            wait_for_version(info.instances[0].port, v)

        values.append(timed(rebuild))
        backend.stop("bench", "bench")
    client.close()
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="process,docker")
    args = parser.parse_args()
    setup_home()
    rows = []
    for name in args.backends.split(","):
        backend = get_backend(name, reporter=None)
        code = tempdir("mlep-bench-code-")
        write_score(code, 0)
        backend.prepare_environment(spec_for(code).environment)  # the build is not part of the loop
        fast = redeploys(backend, code, args.runs)
        if name == "process":
            base = cold_restarts(backend, code, args.runs)
            label, target = "cold restart of azmlinfsrv (same venv)", "≤ 0.6 s and ≥ 4×"
        else:
            base = rebuilds(backend, code, args.runs)
            label, target = "image rebuild + new container", "≤ 3 s and ≥ 10×"
        ratio = median(base) / median(fast)
        rows += [
            (f"{name}: redeploy after a code change", fmt(fast), f"target {target}"),
            (f"{name}: baseline, {label}", fmt(base), "same run"),
            (f"{name}: speed-up", f"{ratio:.1f}×", "baseline median / redeploy median"),
        ]
    show("Redeploy loop (fixture model-1)", rows)


if __name__ == "__main__":
    main()
