"""The Docker engine through the ``docker`` command line (no SDK dependency), always with timeouts."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .._errors import DockerUnavailableError, RuntimeBackendError
from ._logs import StorageLog, is_milestone

__all__ = ["DockerCLI"]

_HINT = (
    "Start the Docker engine (sudo systemctl start docker, or sudo dockerd &; scripts/setup-docker does it "
    "on a Debian machine), or use local processes: MLEP_RUNTIME=process."
)


class DockerCLI:
    """Runs ``docker`` commands; every call has a timeout so a stuck engine never hangs a notebook."""

    def __init__(self, timeout: float = 5.0, binary: str = "docker") -> None:
        self.timeout = timeout
        self.binary = binary

    @property
    def host(self) -> str:
        """Where the engine is expected (``DOCKER_HOST``, else the default socket)."""
        return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"

    def problem(self) -> str | None:
        """None when an engine answers, else a short reason."""
        if shutil.which(self.binary) is None:
            return "the docker command is not installed"
        try:
            proc = subprocess.run(
                [self.binary, "version", "--format", "{{.Server.Version}}"],
                capture_output=True, text=True, timeout=self.timeout, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return f"no answer within {self.timeout:g} s"
        except OSError as exc:
            return str(exc)
        if proc.returncode != 0 or not proc.stdout.strip():
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return lines[-1] if lines else f"docker version exited with code {proc.returncode}"
        return None

    def require(self) -> None:
        """Raise :class:`DockerUnavailableError` (saying how to start one) when no engine answers."""
        problem = self.problem()
        if problem is not None:
            raise DockerUnavailableError(f"No Docker engine answers at {self.host}: {problem}.", hint=_HINT)

    def run(self, args: Sequence[str], *, timeout: float = 60.0, check: bool = True) -> str:
        """Run ``docker <args>`` and return its standard output."""
        try:
            proc = subprocess.run(
                [self.binary, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeBackendError(f"docker {args[0]} did not finish within {timeout:g} s.") from None
        except FileNotFoundError:
            raise DockerUnavailableError("The docker command is not installed.", hint=_HINT) from None
        if check and proc.returncode != 0:
            raise RuntimeBackendError(
                f"docker {' '.join(args[:2])} failed (exit code {proc.returncode}).",
                log_tail="\n".join((proc.stderr or proc.stdout).strip().splitlines()[-20:]),
            )
        return proc.stdout

    def stream(self, args: Sequence[str], log: StorageLog, build_log: Path) -> int:
        """Run a long ``docker`` command, copying its output to ``build_log`` and ``log``; its exit code."""
        with build_log.open("a", encoding="utf-8") as out:
            out.write("$ docker " + " ".join(args) + "\n")
            proc = subprocess.Popen(
                [self.binary, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    out.write(line)
                    log.write("  " + line.rstrip(), report=is_milestone(line))
                return proc.wait()
            except BaseException:  # interrupted: stop the client (callers remove what it started)
                proc.kill()
                proc.wait()
                raise

    def image_exists(self, image: str) -> bool:
        """True when ``image`` is present locally."""
        return bool(self.run(["image", "inspect", "--format", "{{.Id}}", image], check=False).strip())
