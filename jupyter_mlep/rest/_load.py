"""A load generator for scoring URIs: aiohttp's client driven by asyncio, at a fixed rate (open
model) or with a fixed number of clients (closed model), every request recorded.

aiohttp rather than httpx (the rest of this package's HTTP): a load generator's own CPU time per
request competes with the server it measures on the same machine, and aiohttp's is several times
lower (see ``benchmarks/bench_profile.py``).

* ``rps``: request ``i`` is due at ``i / rps`` seconds and is sent then whether or not earlier
  ones have been answered; its latency counts from when it was due, so a slow server is not
  hidden by the generator waiting for it (no coordinated omission).
* ``concurrency``: that many clients, each sending its next request as soon as the last is answered.

Requests go to a URL (the router, or Azure), or straight to a deployment's servers on their
Unix sockets (``sockets``, round-robin, as the router does). The generator runs on its own event
loop in its own thread, so it works the same from a terminal and inside a notebook's kernel; its
own CPU time is measured (``client_cpu_seconds``) so its overhead can be reported.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

__all__ = ["LoadRun", "LoadTarget", "Shot", "run_load"]

Progress = Callable[[float, "list[Shot]"], None]
"""Called about once a second from the generator's thread: (seconds so far, requests answered so far)."""


@dataclass(frozen=True)
class LoadTarget:
    """Where and what to send: ``url`` with ``headers``, one of ``bodies`` per request in turn;
    ``sockets``: Unix sockets to reach instead of the URL's host (``http://localhost/score``)."""

    url: str
    headers: dict[str, str]
    bodies: tuple[bytes, ...]
    sockets: tuple[str, ...] = ()
    verify: ssl.SSLContext | bool = True
    timeout: float = 60.0


@dataclass(frozen=True)
class Shot:
    """One request: when it was due (seconds since the run started), its latency in seconds and
    its status (0: no answer, ``error`` says why)."""

    start: float
    latency: float
    status: int
    error: str = ""


@dataclass
class LoadRun:
    """What one run sent and got back."""

    shots: list[Shot] = field(default_factory=list)
    seconds: float = 0.0
    """Wall time from the first request due to the last answer."""
    client_cpu_seconds: float = 0.0
    """CPU time the generator's own thread used."""


def run_load(
    target: LoadTarget,
    *,
    duration: float,
    rps: float | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
) -> LoadRun:
    """Send requests for ``duration`` seconds, at ``rps`` requests per second or with
    ``concurrency`` clients (exactly one of them), and return every answer.

    Ctrl-C stops the run at once (the requests in flight are abandoned) and is raised again.
    """
    if (rps is None) == (concurrency is None):
        raise ValueError("give exactly one of rps and concurrency")
    result = LoadRun()
    stop = threading.Event()
    failure: list[BaseException] = []

    def main() -> None:
        try:
            loop = _new_loop()
            try:
                loop.run_until_complete(_run(target, duration, rps, concurrency, progress, result, stop))
            finally:
                loop.close()
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=main, name="mlep-load", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        thread.join(10)
        raise
    if failure:
        raise failure[0]
    return result


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (less of its own cost per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _sessions(target: LoadTarget, pool: int) -> list[aiohttp.ClientSession]:
    import aiohttp  # imported when a load runs: importing this package stays cheap (aiohttp ~0.3 s)

    timeout = aiohttp.ClientTimeout(total=target.timeout)
    ssl_option: ssl.SSLContext | bool = target.verify if isinstance(target.verify, ssl.SSLContext) else True
    if not target.sockets:
        connector = aiohttp.TCPConnector(limit=pool, ssl=ssl_option)
        return [aiohttp.ClientSession(connector=connector, timeout=timeout)]
    return [
        aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=path, limit=pool), timeout=timeout)
        for path in target.sockets
    ]


async def _run(
    target: LoadTarget,
    duration: float,
    rps: float | None,
    concurrency: int | None,
    progress: Progress | None,
    result: LoadRun,
    stop: threading.Event,
) -> None:
    pool = concurrency or max(8, min(1000, int((rps or 1) * 2)))
    from aiohttp import ClientError

    clients = _sessions(target, pool)
    url = target.url
    turns = itertools.cycle(range(len(clients)))
    bodies = itertools.cycle(target.bodies)
    cpu_before = time.thread_time()
    began = time.perf_counter()

    async def one(due: float) -> None:
        client = clients[next(turns)]
        try:
            async with client.post(url, data=next(bodies), headers=target.headers) as answer:
                await answer.read()
                shot = Shot(due - began, time.perf_counter() - due, answer.status)
        except (ClientError, asyncio.TimeoutError) as exc:
            shot = Shot(due - began, time.perf_counter() - due, 0, type(exc).__name__)
        result.shots.append(shot)

    async def closed_client() -> None:
        while not stop.is_set() and time.perf_counter() - began < duration:
            await one(time.perf_counter())

    async def open_model(rate: float) -> None:
        tasks: set[asyncio.Task[None]] = set()
        for i in itertools.count():
            due = began + i / rate
            if due - began >= duration or stop.is_set():
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(one(due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=target.timeout)

    async def ticker() -> None:
        while progress is not None:
            await asyncio.sleep(1.0)
            progress(time.perf_counter() - began, list(result.shots))

    tick = asyncio.create_task(ticker())
    try:
        if rps is not None:
            await open_model(rps)
        else:
            await asyncio.gather(*(closed_client() for _ in range(concurrency or 1)))
    finally:
        tick.cancel()
        result.seconds = time.perf_counter() - began
        result.client_cpu_seconds = time.thread_time() - cpu_before
        for client in clients:
            await client.close()
