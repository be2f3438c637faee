"""The job runner of the runtime: a command per rank in a prepared environment, its own process
group, Azure's log names, exit codes, kill of the whole tree, and the process record that lets a
later owner stop what a killed one left."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from support.owners import processes_with

from jupyter_mlep._errors import SettingsError
from jupyter_mlep.runtime import (
    EnvironmentSpec,
    JobProcessSpec,
    RuntimeSettings,
    job_log_names,
    prepare_job_environment,
    start_job,
    stop_recorded_job,
)

BARE = {"name": "bare", "dependencies": ["python=3.11", "pip"]}


def _settings() -> RuntimeSettings:
    return RuntimeSettings.from_env()


def _spec(tmp_path: Path, command: str, ranks: int = 1) -> JobProcessSpec:
    folder = tmp_path / f"job-{uuid.uuid4().hex[:6]}"
    workdir = folder / "code"
    workdir.mkdir(parents=True)
    rank_env = tuple({"RANK": str(rank)} for rank in range(ranks))
    return JobProcessSpec(folder.name, command, workdir, folder, {"GREETING": "hi"}, rank_env)


def _wait(run: object, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        code = run.poll()  # type: ignore[attr-defined]
        if code is not None:
            return int(code)
        assert time.monotonic() < deadline, "the job did not end"
        time.sleep(0.02)


def _until(check: object, timeout: float = 15) -> None:
    """Wait until ``check()`` is true (processes take their time to start on a busy machine)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the processes did not start"
        time.sleep(0.05)


def test_a_job_runs_each_rank_in_the_environment_with_azure_log_names(tmp_path: Path) -> None:
    settings = _settings()
    prepared = prepare_job_environment(
        settings, "process", EnvironmentSpec(conda_file=BARE), tmp_path / "env.log"
    )
    assert prepared.backend == "process" and Path(prepared.python).is_file()
    spec = _spec(tmp_path, 'echo "rank=$RANK $GREETING $(command -v python)"; exit $RANK', ranks=2)
    run = start_job(settings, "process", prepared, spec)
    assert _wait(run) == 1  # the first non-zero exit code
    run.forget()
    for rank, name in enumerate(job_log_names(2)):
        assert name == f"user_logs/std_log_process_{rank}.txt"
        text = (spec.folder / name).read_text()
        assert f"rank={rank} hi {Path(prepared.python).parent}/python" in text
    assert job_log_names(1) == ["user_logs/std_log.txt"]
    assert not (spec.folder / "process.json").exists()


def test_kill_stops_the_whole_tree_and_a_record_lets_another_owner_stop_it(tmp_path: Path) -> None:
    settings = _settings()
    prepared = prepare_job_environment(
        settings, "process", EnvironmentSpec(conda_file=BARE), tmp_path / "env.log"
    )
    marker = uuid.uuid4().hex
    command = f"(sleep 300; echo {marker}-child) & sleep 301; echo {marker}"
    run = start_job(settings, "process", prepared, _spec(tmp_path, command))
    _until(lambda: len(processes_with(marker)) == 2)  # the shell and its subshell
    run.kill()
    assert run.poll() is not None and not processes_with(marker)
    # A second job, forgotten by its owner (as a killed workspace forgets): its record is enough.
    spec = _spec(tmp_path, command)
    start_job(settings, "process", prepared, spec)
    _until(lambda: len(processes_with(marker)) == 2)
    assert (spec.folder / "process.json").exists()
    stopped = stop_recorded_job(settings, spec.folder)
    assert len(stopped) == 1 and stopped[0].startswith("process group ")
    assert not processes_with(marker) and not (spec.folder / "process.json").exists()
    assert stop_recorded_job(settings, spec.folder) == []


def test_max_jobs_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLEP_MAX_JOBS", "3")
    assert RuntimeSettings.from_env().max_jobs == 3
    monkeypatch.setenv("MLEP_MAX_JOBS", "0")
    with pytest.raises(SettingsError, match="MLEP_MAX_JOBS"):
        RuntimeSettings.from_env()
    monkeypatch.delenv("MLEP_MAX_JOBS")
    assert RuntimeSettings.from_env().max_jobs == (os.cpu_count() or 1)
