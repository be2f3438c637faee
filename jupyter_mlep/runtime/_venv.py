"""Virtual environments built once per content hash under ``$MLEP_HOME/envs/<hash>``, with uv or pip."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from .._errors import EnvironmentBuildError
from ._environment import EnvironmentRecipe
from ._logs import StorageLog, is_milestone, tail

__all__ = ["build_venv", "find_uv", "installer_env", "venv_python"]

_READY = ".mlep-ready.json"


def find_uv() -> str | None:
    """The ``uv`` executable: from the ``uv`` package (a dependency), next to this interpreter, or on PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def installer_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables for uv and pip: never download a Python, use the system's CA bundle."""
    env = dict(os.environ if base is None else base)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_SYSTEM_CERTS"] = "1"
    env.setdefault("UV_NO_PROGRESS", "1")
    if "SSL_CERT_FILE" not in env:
        for bundle in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
            if os.path.isfile(bundle):
                env["SSL_CERT_FILE"] = bundle
                break
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def venv_python(path: Path) -> Path:
    """The interpreter of the virtual environment at ``path``."""
    return path / "bin" / "python"


def build_venv(
    recipe: EnvironmentRecipe,
    cache: Path,
    log: StorageLog,
    *,
    installer: str = "auto",
) -> Path:
    """The virtual environment of ``recipe`` under ``cache``, built now unless it already is.

    Concurrent builds of the same recipe wait for each other (a file lock), so an environment is
    never built twice. ``installer`` is ``auto`` (uv when found, else pip), ``uv`` or ``pip``.
    """
    path = cache / recipe.key
    if (path / _READY).is_file():
        log.write(f"environment {recipe.key}: reusing the cached virtual environment {path}")
        return path
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / f"{recipe.key}.lock"):
        if (path / _READY).is_file():
            log.write(f"environment {recipe.key}: reusing the cached virtual environment {path}")
            return path
        uv = find_uv() if installer in ("auto", "uv") else None
        if installer == "uv" and uv is None:
            raise EnvironmentBuildError("MLEP_INSTALLER=uv but uv is not installed.", hint="pip install uv")
        tool = "uv" if uv else "pip"
        log.write(
            f"environment {recipe.key}: building a virtual environment with {tool} "
            f"({len(recipe.requirements)} requirements) in {path}",
            report=True,
        )
        started = time.monotonic()
        shutil.rmtree(path, ignore_errors=True)
        build_log = cache / f"{recipe.key}.log"
        build_log.unlink(missing_ok=True)
        requirements = cache / f"{recipe.key}.requirements.txt"
        requirements.write_text(recipe.requirements_text(), encoding="utf-8")
        python = str(venv_python(path))
        if uv:
            steps = [
                [uv, "venv", "--python", recipe.interpreter or sys.executable, str(path)],
                [uv, "pip", "install", "--python", python, "-r", str(requirements)],
            ]
        else:
            steps = [
                [recipe.interpreter or sys.executable, "-m", "venv", str(path)],
                [python, "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)],
            ]
        for command in steps:
            _run_step(command, build_log, log, path)
        seconds = time.monotonic() - started
        info = {"installer": tool, "requirements": list(recipe.requirements), "seconds": round(seconds, 2)}
        (path / _READY).write_text(json.dumps(info, indent=1), encoding="utf-8")
        log.write(f"environment {recipe.key}: ready in {seconds:.1f} s", report=True)
        return path


def _run_step(command: list[str], build_log: Path, log: StorageLog, path: Path) -> None:
    with build_log.open("a", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=installer_env()
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                out.write(line)
                log.write("  " + line.rstrip(), report=is_milestone(line))
            code = proc.wait()
        except BaseException:  # interrupted (Ctrl-C): stop the installer and drop the half-built venv
            proc.kill()
            proc.wait()
            shutil.rmtree(path, ignore_errors=True)
            raise
    if code != 0:
        shutil.rmtree(path, ignore_errors=True)
        raise EnvironmentBuildError(
            f"Building the environment failed: {Path(command[0]).name} exited with code {code}.",
            hint="Check the requirements (names, versions, the Python version they need).",
            log_tail=tail(build_log, 30),
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
