"""The batch driver: the command of a batch job, run in the deployment's environment (standard library only).

``python driver.py <config.json>`` groups the input files in mini-batches, starts the workers
(``worker.py``, loaded once, in processes forked from the driver, one per instance ×
``max_concurrency_per_instance``, all in the job's process group) and hands each free worker the
next mini-batch, in one loop that waits on every worker's pipe at once. A mini-batch that raises,
exceeds the timeout or loses its worker (killed) is retried up to ``max_retries`` times on a
fresh worker; its items then count as failed. The job fails once more items failed than
``error_threshold`` allows (-1: no limit). With ``append_row`` the rows of ``run()`` are appended
(no header) to the output file, which must not exist before.

Logs, as Azure lays them out below ``logs/``: ``job_progress_overview.txt`` (rewritten as
mini-batches end), ``user/error.txt``, ``user/stdout/process<N>.stdout.txt`` (the workers'),
``sys/job_report/processed_mini-batches.csv`` (one line per mini-batch) and ``job_result.txt``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

#: The overview is rewritten at most this often while mini-batches end (and at the end).
_OVERVIEW_SECONDS = 0.25
#: How many mini-batches a worker holds: the one it runs and the next one.
_QUEUED = 2


class _Failure(Exception):
    """The job fails: the message says why."""


class _Worker:
    """One worker process, its message channel and the mini-batch it holds."""

    def __init__(self, config_path: str, index: int) -> None:
        self.index = index
        to_worker, from_driver = os.pipe()
        from_worker, to_driver = os.pipe()
        self.pid = os.fork()  # the driver's interpreter, already started: no second start-up
        if self.pid == 0:
            _become_worker(config_path, index, to_worker, to_driver)
        os.close(to_worker)
        os.close(to_driver)
        self.stdin, self.stdout = from_driver, from_worker
        self.buffer = b""
        self.ready = False  # init() returned
        self.queue: list[int] = []  # the mini-batches sent to it, the first one running
        self.deadline: float | None = None  # when the running one times out

    def send(self, message: dict[str, Any]) -> bool:
        data = (json.dumps(message) + "\n").encode()
        try:
            while data:
                data = data[os.write(self.stdin, data) :]
            return True
        except OSError:
            return False

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """The messages that arrived, and whether the channel closed (the worker died)."""
        chunk = os.read(self.stdout, 1 << 16)
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], not chunk

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        for fd in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                os.close(fd)


def _load_worker() -> Any:
    """The worker's module (``worker.py`` beside this file), loaded once by the driver: the forked
    workers inherit it, imports included, instead of each compiling and importing it again."""
    spec = importlib.util.spec_from_file_location("worker", Path(__file__).with_name("worker.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_WORKER: Any = None


def _become_worker(config_path: str, index: int, stdin: int, stdout: int) -> None:
    """In the forked child: the pipes become standard input and output, then the worker's ``main()``."""
    code = 0
    try:
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.closerange(3, 1 << 16)  # the driver's files and the other workers' pipes
        sys.argv = [str(Path(__file__).with_name("worker.py")), config_path, str(index)]
        _WORKER.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


class Driver:
    """Runs the mini-batches of one job."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self.config = json.loads(Path(config_path).read_text(encoding="utf-8"))
        files = self.config["files"]
        size = self.config["mini_batch_size"]
        self.batches = [files[i : i + size] for i in range(0, len(files), size)]
        self.logs = Path(self.config["logs"])
        self.pending = list(range(len(self.batches)))
        self.attempts = [0] * len(self.batches)
        self.begun: dict[int, float] = {}
        self.init_deaths: dict[int, int] = {}
        self.workers: dict[int, _Worker] = {}
        self.done = self.failed_batches = self.succeeded = self.failed = 0
        self.started = time.time()
        for folder in ("user/stdout", "sys/job_report"):
            (self.logs / folder).mkdir(parents=True, exist_ok=True)
        self.report = (self.logs / "sys/job_report/processed_mini-batches.csv").open("w", encoding="utf-8")
        self.report.write("mini_batch_id,items,succeeded,failed,attempts,process,start,end,seconds\n")
        self.report.flush()
        self.output: Any = None  # the output file, open while the job runs (append_row)
        self.shown = 0.0  # when the overview was last written
        (self.logs / "user/error.txt").touch()

    def log_error(self, text: str) -> None:
        with (self.logs / "user/error.txt").open("a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text.rstrip()}\n")

    def overview(self, final: str | None = None) -> None:
        self.shown = time.monotonic()
        elapsed = time.time() - self.started
        lines = [
            f"Total mini batches: {len(self.batches)}",
            f"Processed mini batches: {self.done}",
            f"Failed mini batches: {self.failed_batches}",
            f"Items succeeded: {self.succeeded}",
            f"Items failed: {self.failed}",
            f"Items per second: {self.succeeded / elapsed if elapsed > 0 else 0.0:.2f}",
            f"Elapsed seconds: {elapsed:.3f}",
        ]
        if final:
            lines.append(final)
        target = self.logs / "job_progress_overview.txt"
        temporary = target.with_name(".job_progress_overview.txt.tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, target)

    # -- workers -----------------------------------------------------------------------------------
    def _spawn(self, index: int) -> None:
        self.workers[index] = _Worker(self.config_path, index)

    def _assign(self, worker: _Worker) -> None:
        """Keep the worker's queue full: the next mini-batch waits in its pipe while it runs one, so
        it never idles between two (or leave it idle when none is left)."""
        while self.pending and len(worker.queue) < _QUEUED:
            batch = self.pending.pop(0)
            self.attempts[batch] += 1
            self.begun.setdefault(batch, time.time())
            worker.queue.append(batch)
            if len(worker.queue) == 1:
                worker.deadline = time.monotonic() + self.config["timeout"]
            if not worker.send({"id": batch, "files": self.batches[batch]}):
                self._lost(worker, "its worker process died")
                return

    def _lost(self, worker: _Worker, reason: str) -> None:
        """The worker died or timed out: it is replaced; its mini-batch is retried or fails."""
        worker.stop()
        if not worker.ready:
            deaths = self.init_deaths[worker.index] = self.init_deaths.get(worker.index, 0) + 1
            self.log_error(f"process{worker.index:03d}: the worker process died in init() (attempt {deaths})")
            if deaths > self.config["max_retries"]:
                raise _Failure("The worker processes kept dying in init(). See logs/user/error.txt.")
        self._spawn(worker.index)
        if not worker.queue:
            return
        running, *waiting = worker.queue
        for batch in reversed(waiting):  # never started: back to the front of the line
            self.attempts[batch] -= 1
            self.pending.insert(0, batch)
        self.log_error(f"mini-batch {running} attempt {self.attempts[running]}: {reason}")
        self._failed_attempt(running, worker.index, None, retry=True)

    def _failed_attempt(self, batch: int, index: int, result: dict[str, Any] | None, *, retry: bool) -> None:
        if retry and self.attempts[batch] <= self.config["max_retries"]:
            self.pending.insert(0, batch)
        else:
            self._finish_batch(batch, index, result)

    def _message(self, worker: _Worker, message: dict[str, Any]) -> None:
        if "init_error" in message:
            reason = message["init_error"]
            self.log_error(f"process{worker.index:03d}: init() failed: {reason}\n{message.get('trace', '')}")
            raise _Failure(f"init() of the scoring script failed: {reason}. See logs/user/error.txt.")
        if message.get("ready"):
            worker.ready = True
            self._assign(worker)
            return
        batch = worker.queue.pop(0)
        assert message.get("id") == batch
        worker.deadline = time.monotonic() + self.config["timeout"] if worker.queue else None
        if message.get("ok"):
            self._finish_batch(batch, worker.index, message)
        else:
            self.log_error(
                f"mini-batch {batch} attempt {self.attempts[batch]}: {message['error']}\n{message.get('trace', '')}"
            )
            self._failed_attempt(batch, worker.index, message, retry=bool(message.get("retry", True)))
        self._assign(worker)

    def _finish_batch(self, batch: int, index: int, result: dict[str, Any] | None) -> None:
        files = self.batches[batch]
        ok = result is not None and bool(result.get("ok"))
        succeeded = min(int(result["count"]), len(files)) if ok and result else 0
        for error in (result or {}).get("errors") or []:
            self.log_error(f"mini-batch {batch}: {error}")
        if ok and result and result.get("rows") and self.output is not None:
            self.output.write(result["rows"])
            self.output.flush()
        self.done += 1
        self.failed_batches += 0 if ok else 1
        self.succeeded += succeeded
        self.failed += len(files) - succeeded
        start, end = self.begun.get(batch, time.time()), time.time()
        self.report.write(
            f"{batch},{len(files)},{succeeded},{len(files) - succeeded},{self.attempts[batch]},"
            f"process{index:03d},{start:.3f},{end:.3f},{end - start:.3f}\n"
        )
        self.report.flush()
        if time.monotonic() - self.shown >= _OVERVIEW_SECONDS:
            self.overview()
        threshold = self.config["error_threshold"]
        if threshold != -1 and self.failed > threshold:
            raise _Failure(
                f"{self.failed} items failed, more than the error threshold ({threshold}); the job was "
                "stopped. See logs/user/error.txt."
            )

    def _loop(self) -> None:
        for index in range(min(self.config["workers"], len(self.batches))):
            self._spawn(index)
        while self.done < len(self.batches):
            by_pipe = {worker.stdout: worker for worker in self.workers.values()}
            deadlines = [w.deadline for w in self.workers.values() if w.deadline is not None]
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready, _, _ = select.select(list(by_pipe), [], [], wait)
            for pipe in ready:
                worker = by_pipe[pipe]
                messages, closed = worker.read()
                for message in messages:
                    self._message(worker, message)
                if closed:
                    self._lost(worker, "its worker process died")
            now = time.monotonic()
            for worker in list(self.workers.values()):
                if worker.deadline is not None and worker.deadline <= now:
                    self._lost(worker, f"timed out after {self.config['timeout']:g} s")

    def run(self) -> int:
        output = Path(self.config["output"])
        if self.config["append_row"]:
            output.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.output = output.open("x", encoding="utf-8")
            except FileExistsError:
                return self.finish(f"The output file {output} exists already; it is never overwritten.")
        if not self.batches:
            return self.finish("The input has no files to score.")
        self.overview()
        try:
            self._loop()
        except _Failure as exc:
            return self.finish(str(exc))
        finally:
            for worker in self.workers.values():
                worker.stop()
        return self.finish(None)

    def finish(self, failure: str | None) -> int:
        result = (
            f"Failed: {failure}"
            if failure
            else f"Completed: {self.succeeded} items succeeded, {self.failed} failed, in {len(self.batches)} "
            "mini-batches."
        )
        self.overview(result)
        self.report.close()
        if self.output is not None:
            self.output.close()
        (self.logs / "job_result.txt").write_text(result + "\n", encoding="utf-8")
        if failure:
            self.log_error(failure)
        print(result, flush=True)
        return 1 if failure else 0


if __name__ == "__main__":
    _WORKER = _load_worker()
    sys.exit(Driver(sys.argv[1]).run())
