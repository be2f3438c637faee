"""Loopback networking of the tests: free ports, small HTTP calls, listening sockets, Azurite."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .samples import REPO
from .workspace import kill_group

AZURITE_DIR = REPO / ".cache" / "azurite"
AZURITE_MAIN = AZURITE_DIR / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_json(url: str, payload: Any, timeout: float = 10.0) -> tuple[int, Any]:
    """POST a JSON body; (status, parsed JSON or text)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET a URL; (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


@dataclass(frozen=True)
class Azurite:
    """A running Azurite blob service."""

    account_url: str
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY


def install_azurite() -> None:
    """npm-install Azurite into .cache/azurite when it is missing."""
    if AZURITE_MAIN.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise AssertionError("npm is needed to install Azurite (apt-get install npm)")
    AZURITE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(AZURITE_DIR), "--no-audit", "--no-fund", "--silent", "azurite@3"],
        check=True,
        timeout=300,
    )


@contextlib.contextmanager
def running_azurite(location: Path) -> Iterator[Azurite]:
    """Azurite's blob service on 127.0.0.1 (its own process group), data in ``location``; stopped at exit."""
    install_azurite()
    node = shutil.which("node")
    assert node is not None, "node is needed to run Azurite"
    port = free_port()
    process = subprocess.Popen(
        [
            node, str(AZURITE_MAIN), "--blobHost", "127.0.0.1", "--blobPort", str(port),
            "--location", str(location), "--silent", "--skipApiVersionCheck", "--disableTelemetry",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"Azurite did not start: {process.stderr.read().decode() if process.stderr else ''}"
                )
            time.sleep(0.05)
        yield Azurite(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}")
    finally:
        kill_group(process.pid)
        if process.stderr is not None:
            process.stderr.close()
        process.wait(timeout=10)
