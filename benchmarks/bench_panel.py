"""The JupyterLab extension's costs: wheel size, JS bundle size, change → visible, idle server CPU.

* wheel size added: the compressed size of what the extension adds to the wheel (the prebuilt
  labextension, the server config, ``jupyter_mlep/server/``), against the whole wheel;
* JS bundle: the built extension's JavaScript (raw and gzip);
* change → visible: a Jupyter server with the extension and a local workspace (process runtime) run
  for the benchmark; a panel client follows the change feed (the long poll the browser makes)
  while an endpoint is created (or deleted) through the operations, as a magic does; the time from
  the call's return to the snapshot that shows it (median of ``--runs``);
* idle CPU: the Jupyter server's and the workspace's CPU while nothing changes, without a panel
  open (the baseline) and with one following the feed, in percent of one core.

Needs the extension built (``scripts/build-labextension``). Run: ``.venv/bin/python benchmarks/bench_panel.py``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
from _common import REPO, print_table
from support.net import free_port
from support.wheel import build_wheel

DIST = REPO / "labextension" / "dist" / "jupyter-mlep"


def sizes(folder: Path) -> tuple[str, str, str]:
    """The wheel's figures: (added by the extension, whole wheel, share) in KB."""
    wheel = build_wheel(folder)
    infos = zipfile.ZipFile(wheel).infolist()
    added = sum(
        i.compress_size
        for i in infos
        if ".data/data/" in i.filename or i.filename.startswith("jupyter_mlep/server/")
    )
    whole = wheel.stat().st_size
    return f"{added / 1024:.1f} KB", f"{whole / 1024:.0f} KB", f"{100 * added / whole:.1f} %"


def bundle() -> tuple[str, str]:
    """The JavaScript of the built extension: raw and gzip, in KB."""
    files = list((DIST / "static").glob("*.js"))
    raw = sum(f.stat().st_size for f in files)
    packed = sum(len(gzip.compress(f.read_bytes())) for f in files)
    return f"{raw / 1024:.1f} KB", f"{packed / 1024:.1f} KB"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def jupyter_server(base: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """A Jupyter server with the extension (its own config folder); (process, url, token)."""
    port, token = free_port(), secrets.token_hex(16)
    config = base / "config"
    config.mkdir(parents=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_mlep.server": True}}})
    )
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(base / "runtime")}
    env["PYTHONPATH"] = str(REPO)
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={base}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (base / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/status", headers={"Authorization": f"token {token}"}).status_code == 200:
                return process, url, token
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the Jupyter server did not start:\n" + (base / "server.log").read_text())
        time.sleep(0.1)


class Watcher:
    """A panel client: follows the change feed (long poll) in a thread, keeping the latest snapshot."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"token {token}"}, timeout=40)
        self.snapshot = self.http.get("/jupyter-mlep/panel").json()
        self.history: list[tuple[float, dict[str, object]]] = []
        self.arrived = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.stopped:
            try:
                snapshot = self.http.get(
                    "/jupyter-mlep/panel", params={"since": self.snapshot["version"]}
                ).json()
            except httpx.HTTPError:
                return  # the server stopped
            with self.arrived:
                self.snapshot = snapshot
                self.history.append((time.perf_counter(), snapshot))
                self.arrived.notify_all()

    def wait_for(self, check: object, since: float = 0.0, timeout: float = 30.0) -> float:
        """When the first snapshot that arrived after ``since`` (perf_counter) and satisfies ``check``
        arrived (waiting for it up to ``timeout`` seconds)."""
        start = time.perf_counter()
        with self.arrived:
            while True:
                if check(self.snapshot) and not self.history:  # type: ignore[operator]
                    return start
                found = [at for at, snap in self.history if at >= since and check(snap)]  # type: ignore[operator]
                if found:
                    return found[0]
                if time.perf_counter() - start > timeout:
                    raise TimeoutError("the panel never showed the change")
                self.arrived.wait(0.5)

    def stop(self) -> None:
        self.stopped = True


def endpoint_names(snapshot: dict[str, object]) -> set[str]:
    sections = snapshot.get("sections") or []
    return {item["name"] for s in sections if s["kind"] == "online-endpoint" for item in s["items"]}  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of each idle CPU window")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        added, whole, share = sizes(folder / "wheel")
        raw, packed = bundle()
        rows += [
            ("wheel size added by the extension", added, f"of a {whole} wheel ({share})"),
            ("JS bundle", raw, f"{packed} gzip; target ≤ 300 KB"),
        ]

        os.environ.update(
            MLEP_HOME=str(folder / "home"),
            MLEP_RUNTIME="process",
            MLEP_TARGET="local",
            MLEP_IGNORE_CONFIG_JSON="1",
        )
        from jupyter_mlep import operations as ops
        from jupyter_mlep.workspace import ensure_running, stop

        workspace = ensure_running(folder / "home")
        server, url, token = jupyter_server(folder / "jupyter")
        try:
            with ops.connect() as client:
                # idle CPU, without a panel (baseline), then with one following the feed
                time.sleep(3)
                figures = {}
                for label, watching in (("no panel open", False), ("a panel open", True)):
                    watcher = Watcher(url, token) if watching else None
                    if watcher:
                        watcher.wait_for(lambda s: not s["loading"])
                        time.sleep(2)
                    before = (cpu_seconds(server.pid), cpu_seconds(workspace.pid), time.monotonic())
                    time.sleep(args.idle)
                    after = (cpu_seconds(server.pid), cpu_seconds(workspace.pid), time.monotonic())
                    elapsed = after[2] - before[2]
                    figures[label] = (
                        (after[0] - before[0]) / elapsed * 100,
                        (after[1] - before[1]) / elapsed * 100,
                    )
                    if watcher:
                        watcher.stop()
                # change -> visible
                watcher = Watcher(url, token)
                watcher.wait_for(lambda s: not s["loading"])
                latency, after_start = [], []
                for run in range(args.runs):
                    name = f"bp-{run}-{secrets.token_hex(3)}"
                    for change, shown in (
                        (ops.create_endpoint, lambda s, n=name: n in endpoint_names(s)),
                        (ops.delete_endpoint, lambda s, n=name: n not in endpoint_names(s)),
                    ):
                        started = time.perf_counter()
                        change(client, name)
                        returned = time.perf_counter()
                        seen = watcher.wait_for(shown, since=started)
                        latency.append(seen - returned)
                        after_start.append(seen - started)
                watcher.stop()
        finally:
            try:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            finally:
                stop(folder / "home")
    early = sum(1 for value in latency if value <= 0)
    rows.append(
        (
            "change → visible in the panel (median, from the call's return)",
            f"{max(0.0, statistics.median(latency)) * 1000:.0f} ms",
            f"{len(latency)} changes (create/delete endpoint), {early} shown before the call returned; "
            f"max {max(latency) * 1000:.0f} ms; target ≤ 2 s",
        )
    )
    rows.append(
        (
            "the same, from the call's start (includes the operation)",
            f"{statistics.median(after_start) * 1000:.0f} ms",
            f"max {max(after_start) * 1000:.0f} ms",
        )
    )
    for label, (jupyter, ws) in figures.items():
        rows.append(
            (f"idle CPU, {label}", f"{jupyter:.2f} % of a core", f"Jupyter server; workspace {ws:.2f} %")
        )
    print_table("JupyterLab extension", rows)


if __name__ == "__main__":
    main()
