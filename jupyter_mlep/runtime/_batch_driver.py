"""The batch driver: the command of a batch job, run in the deployment's environment (standard library only).

``python driver.py <config.json>`` groups the input files in mini-batches, starts the workers
(``worker.py``, one per instance × ``max_concurrency_per_instance``) and hands each free worker the
next mini-batch. A mini-batch that raises, exceeds the timeout or loses its worker (killed) is
retried up to ``max_retries`` times on a fresh worker; its items then count as failed. The job
fails once more items failed than ``error_threshold`` allows (-1: no limit). With ``append_row``
the rows of ``run()`` are appended (no header) to the output file, which must not exist before.

Logs, as Azure lays them out below ``logs/``: ``job_progress_overview.txt`` (rewritten as
mini-batches end), ``user/error.txt``, ``user/stdout/process<N>.stdout.txt`` (the workers'),
``sys/job_report/processed_mini-batches.csv`` (one line per mini-batch) and ``job_result.txt``.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: The overview is rewritten at most this often while mini-batches end (and at the end).
_OVERVIEW_SECONDS = 0.25


class _Failure(Exception):
    """The job fails: the message says why."""


class _Worker:
    """One worker process and its message channel."""

    def __init__(self, config_path: str, index: int) -> None:
        script = str(Path(__file__).with_name("worker.py"))
        self.proc = subprocess.Popen(
            [sys.executable, script, config_path, str(index)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self.buffer = b""
        self.ended = False  # its channel closed: the process died or is dying

    def send(self, message: dict[str, Any]) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            return True
        except (BrokenPipeError, OSError):
            return False

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message; None when the worker died or the timeout ran out."""
        assert self.proc.stdout is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                self.ended = True
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Driver:
    """Runs the mini-batches of one job."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self.config = json.loads(Path(config_path).read_text(encoding="utf-8"))
        files = self.config["files"]
        size = self.config["mini_batch_size"]
        self.batches = [files[i : i + size] for i in range(0, len(files), size)]
        self.logs = Path(self.config["logs"])
        self.lock = threading.Lock()
        self.pending = list(range(len(self.batches)))
        self.done = self.failed_batches = self.succeeded = self.failed = 0
        self.failure: str | None = None
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
            f"Elapsed seconds: {elapsed:.1f}",
        ]
        if final:
            lines.append(final)
        target = self.logs / "job_progress_overview.txt"
        temporary = target.with_name(".job_progress_overview.txt.tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, target)

    def _next(self) -> int | None:
        with self.lock:
            if self.failure is not None or not self.pending:
                return None
            return self.pending.pop(0)

    def _start_worker(self, index: int) -> _Worker:
        """A worker whose init() returned; one that dies before (killed) is started again, up to
        ``max_retries`` times; init() raising fails the job."""
        for attempt in range(self.config["max_retries"] + 1):
            worker = _Worker(self.config_path, index)
            message = worker.receive(None)
            if message is not None and "init_error" not in message:
                return worker
            worker.stop()
            if message is None:
                self.log_error(
                    f"process{index:03d}: the worker process died in init() (attempt {attempt + 1})"
                )
                continue
            reason = message["init_error"]
            self.log_error(f"process{index:03d}: init() failed: {reason}\n{message.get('trace', '')}")
            raise _Failure(f"init() of the scoring script failed: {reason}. See logs/user/error.txt.")
        raise _Failure("The worker processes kept dying in init(). See logs/user/error.txt.")

    def _serve(self, index: int) -> None:
        try:
            worker = self._start_worker(index)
        except _Failure as exc:
            with self.lock:
                self.failure = self.failure or str(exc)
            return
        try:
            while (batch := self._next()) is not None:
                worker = self._one(index, worker, batch)
        except _Failure as exc:
            with self.lock:
                self.failure = self.failure or str(exc)
        finally:
            worker.stop()

    def _one(self, index: int, worker: _Worker, batch: int) -> _Worker:
        files = self.batches[batch]
        start = time.time()
        attempts, result, errors = 0, None, []
        while attempts <= self.config["max_retries"]:
            attempts += 1
            if not worker.send({"id": batch, "files": files}):
                result = None
            else:
                result = worker.receive(self.config["timeout"])
            if result is not None and result.get("ok"):
                break
            if result is None:
                died = worker.ended or worker.proc.poll() is not None
                reason = (
                    "its worker process died" if died else f"timed out after {self.config['timeout']:g} s"
                )
                errors.append(f"mini-batch {batch} attempt {attempts}: {reason}")
                worker.stop()
                worker = self._start_worker(index)
            else:
                errors.append(
                    f"mini-batch {batch} attempt {attempts}: {result['error']}\n{result.get('trace', '')}"
                )
                if not result.get("retry", True):
                    break
        for error in errors:
            self.log_error(error)
        ok = result is not None and bool(result.get("ok"))
        succeeded = min(int(result["count"]), len(files)) if ok and result else 0
        for error in (result or {}).get("errors") or []:
            self.log_error(f"mini-batch {batch}: {error}")
        with self.lock:
            if ok and result and result.get("rows") and self.output is not None:
                self.output.write(result["rows"])
                self.output.flush()
            self.done += 1
            self.failed_batches += 0 if ok else 1
            self.succeeded += succeeded
            self.failed += len(files) - succeeded
            end = time.time()
            self.report.write(
                f"{batch},{len(files)},{succeeded},{len(files) - succeeded},{attempts},"
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
        return worker

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
        count = min(self.config["workers"], len(self.batches))
        threads = [threading.Thread(target=self._serve, args=(index,), daemon=True) for index in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.failure is None and self.done < len(self.batches):
            self.failure = "The workers stopped before every mini-batch was processed."
        return self.finish(self.failure)

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
    # The threads mostly wait on their workers' pipes: switch promptly to the one whose reply came
    # in, instead of after the default 5 ms, which would idle the workers between mini-batches.
    sys.setswitchinterval(0.0005)
    sys.exit(Driver(sys.argv[1]).run())
