"""CPU and memory readings of a deployment's instances on both backends (process groups from
/proc, container statistics from the engine): a request that keeps the CPU busy shows."""

from __future__ import annotations

from pathlib import Path

from support.samples import model_1_spec, write_script
from support.servers import post_json

from jupyter_mlep.runtime import Backend, utilisation

SCORE_BURN = """\
import json
import time


def init():
    pass


def run(raw_data):
    end = time.perf_counter() + json.loads(raw_data)["burn"]
    while time.perf_counter() < end:
        pass
    return [1]
"""


def test_a_busy_instance_uses_more_cpu(backend: Backend, model_1: Path, tmp_path: Path) -> None:
    code = write_script(tmp_path / "burn", SCORE_BURN)
    info = backend.start(model_1_spec(model_1, code))
    try:
        (before,) = backend.usage("ep", "blue")
        assert before.instance == "i0" and before.memory_bytes > 10 * 2**20 and before.memory_limit > 0
        status, _ = post_json(info.socket, {"burn": 1.0})
        assert status == 200
        (after,) = backend.usage("ep", "blue")
        busy = after.cpu_seconds - before.cpu_seconds
        assert busy >= 0.6, busy
        cpu, memory = utilisation(before, after, 1.2)
        assert cpu > 20 and 0 < memory < 100
        print(f"\n{backend.name}: {busy:.2f} CPU s for a 1 s burn, {after.memory_bytes / 2**20:.0f} MiB")
    finally:
        backend.stop("ep", "blue")
    assert backend.usage("ep", "blue") == ()
