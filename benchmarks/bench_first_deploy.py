"""First deploy of fixture model-1 on the process backend, and environment builds with uv and pip.

* cold: an empty environment cache (the installer's own download cache as it is on the machine);
* warm: the environment is cached; target ≤ 3 s from ``start()`` to the first successful score;
* the same requirements built with uv and with pip, both without any cache; target uv ≥ 3× faster.

    .venv/bin/python benchmarks/bench_first_deploy.py [--runs 5] [--build-runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _runtime import MODEL_1, fmt, median, score, setup_home, show, spec_for, tempdir, write_score

from jupyter_mlep.runtime import get_backend
from jupyter_mlep.runtime._conda import map_conda, read_conda_file
from jupyter_mlep.runtime._environment import with_inference_server
from jupyter_mlep.runtime._venv import find_uv, installer_env


def first_score(envs: Path, code: Path) -> float:
    """Seconds from ``start()`` to the first 200 from /score, with the environment cache at ``envs``."""
    os.environ["MLEP_ENVS_DIR"] = str(envs)
    backend = get_backend("process", reporter=None)
    started = time.perf_counter()
    info = backend.start(spec_for(code))
    status, _ = score(info.socket)
    elapsed = time.perf_counter() - started
    assert status == 200
    backend.stop("bench", "bench")
    return elapsed


def build(installer: str, requirements: Path) -> float:
    """Seconds to create a venv and install ``requirements`` with no cache at all."""
    root = tempdir(f"mlep-bench-{installer}-")
    env = installer_env()
    started = time.perf_counter()
    if installer == "uv":
        uv = find_uv()
        assert uv, "uv is not installed"
        env["UV_CACHE_DIR"] = str(root / "cache")
        subprocess.run(
            [uv, "venv", "-q", "--python", sys.executable, str(root / "venv")], env=env, check=True
        )
        command = [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(root / "venv" / "bin" / "python"),
            "-r",
            str(requirements),
        ]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], env=env, check=True)
        command = [str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "--no-cache-dir",
                   "--disable-pip-version-check", "-r", str(requirements)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{installer} failed:\n{done.stderr[-3000:]}")
    elapsed = time.perf_counter() - started
    shutil.rmtree(root, ignore_errors=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build-runs", type=int, default=5)
    args = parser.parse_args()
    setup_home()
    code = tempdir("mlep-bench-code-")
    write_score(code, 0)

    cold = [first_score(tempdir("mlep-bench-envs-"), code) for _ in range(args.runs)]
    warm_cache = tempdir("mlep-bench-envs-")
    first_score(warm_cache, code)
    warm = [first_score(warm_cache, code) for _ in range(args.runs)]

    conda = read_conda_file(MODEL_1 / "environment" / "conda.yaml")
    reqs = with_inference_server(list(map_conda(conda, python_version="3.11", emit=False).requirements))
    requirements = tempdir("mlep-bench-req-") / "requirements.txt"
    requirements.write_text("\n".join(reqs) + "\n")
    rows = [
        ("start → first score, cold environment cache", fmt(cold), "uv's download cache warm"),
        ("start → first score, warm environment cache", fmt(warm), "target ≤ 3 s"),
    ]
    if args.build_runs > 0:
        uv = [build("uv", requirements) for _ in range(args.build_runs)]
        pip = [build("pip", requirements) for _ in range(args.build_runs)]
        rows += [
            ("environment build with uv, no cache", fmt(uv), f"{len(reqs)} requirements"),
            ("environment build with pip, no cache", fmt(pip), "same requirements"),
            ("uv speed-up over pip", f"{median(pip) / median(uv):.1f}×", "target ≥ 3×"),
        ]
    show("First deploy (fixture model-1, process backend)", rows)


if __name__ == "__main__":
    main()
