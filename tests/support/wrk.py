"""``wrk`` (Debian's package), the independent load tool the profiler is checked against: a
closed-model run with N connections, its requests, throughput and latency (p50, mean), and the
CPU time it used.

    run = wrk(url, headers, body, connections=4, seconds=5)
    run.throughput, run.p50_ms
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkRun", "wrk"]

_SCRIPT = """\
wrk.method = "POST"
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format("MLEP-WRK %d %d %d %f %f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency.mean))
end
"""


@dataclass(frozen=True)
class WrkRun:
    """What wrk reported: requests, seconds, errors (non-2xx/3xx and socket errors), p50 and mean
    latency (ms), and the CPU seconds wrk itself used."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    mean_ms: float
    cpu_seconds: float

    @property
    def throughput(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for ASCII text


def wrk(url: str, headers: dict[str, str], body: bytes, *, connections: int, seconds: float) -> WrkRun:
    """Run wrk (one thread) against ``url`` for ``seconds`` with ``connections`` connections."""
    lines = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "profile.lua"
        script.write_text(_SCRIPT.format(body=_lua(body.decode()), headers=lines))
        os.chmod(script, 0o600)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script), url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in out.stdout.splitlines() if x.startswith("MLEP-WRK "))
    requests, micros, errors, p50, mean = line.split()[1:]
    return WrkRun(
        requests=int(requests),
        seconds=int(micros) / 1e6,
        errors=int(errors),
        p50_ms=float(p50) / 1000,
        mean_ms=float(mean) / 1000,
        cpu_seconds=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    )
