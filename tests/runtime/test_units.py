"""Runtime parts that need no server: conda mapping, settings, hashes, logs, backend choice."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from jupyter_mlep._errors import DockerUnavailableError, EnvironmentBuildError, SettingsError
from jupyter_mlep.runtime import (
    EnvironmentSpec,
    EnvironmentWarning,
    RuntimeSettings,
    available_backends,
    get_backend,
    map_conda,
    select_backend,
)
from jupyter_mlep.runtime._conda import read_conda_file
from jupyter_mlep.runtime._environment import venv_recipe
from jupyter_mlep.runtime._logs import follow, tail


def test_conda_file_of_model_1_maps_to_pins_and_warns_about_python(model_1: Path) -> None:
    conda = read_conda_file(model_1 / "environment" / "conda.yaml")
    with pytest.warns(EnvironmentWarning, match=r"Python 3\.12.*3\.11"):
        mapping = map_conda(conda, python_version="3.11.7")
    assert mapping.python == "3.12"
    assert "numpy==2.3.1" in mapping.requirements
    assert "scikit-learn==1.7.0" in mapping.requirements
    assert "azureml-inference-server-http==1.4.1" in mapping.requirements
    assert "inference-schema[numpy-support]" in mapping.requirements
    assert not any(req.startswith("python") for req in mapping.requirements)


def test_conda_only_packages_and_build_strings_are_warned_not_dropped_silently() -> None:
    conda = {
        "dependencies": ["python=3.11", "mkl", "conda-forge::numpy=2.3", "scipy 1.11.0 py311h_0", "pandas>=2"]
    }
    with pytest.warns(EnvironmentWarning) as caught:
        mapping = map_conda(conda, python_version="3.11.7")
    messages = [str(w.message) for w in caught]
    assert any("'mkl'" in m for m in messages)
    assert any("build string" in m and "scipy" in m for m in messages)
    assert not any("Python" in m for m in messages)
    assert mapping.requirements == ("numpy==2.3.*", "scipy==1.11.0", "pandas>=2")


def test_environment_hash_follows_content_only(model_1: Path, tmp_path: Path) -> None:
    conda = model_1 / "environment" / "conda.yaml"
    copy = tmp_path / "conda.yaml"
    copy.write_bytes(conda.read_bytes())
    with pytest.warns(EnvironmentWarning):
        first = venv_recipe(EnvironmentSpec(conda_file=conda), RuntimeSettings.from_env().python)
        same = venv_recipe(EnvironmentSpec(conda_file=copy, name="other"), RuntimeSettings.from_env().python)
        other = venv_recipe(
            EnvironmentSpec(conda_file=conda, pip_requirements=("six",)), RuntimeSettings.from_env().python
        )
    assert first.key == same.key
    assert first.key != other.key
    assert first.requirements[-1] != "azureml-inference-server-http"  # already pinned by the conda file


def test_inference_server_is_added_when_missing() -> None:
    recipe = venv_recipe(EnvironmentSpec(pip_requirements=("joblib",)), RuntimeSettings.from_env().python)
    assert recipe.requirements == ("joblib", "azureml-inference-server-http")


def test_build_context_without_requirements_is_a_clear_error_for_processes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\n")
    with pytest.raises(EnvironmentBuildError, match="Dockerfile"):
        venv_recipe(EnvironmentSpec(build_context=tmp_path), RuntimeSettings.from_env().python)
    (tmp_path / "requirements.txt").write_text("joblib  # comment\n\n")
    with pytest.warns(EnvironmentWarning, match="ignores the Dockerfile"):
        recipe = venv_recipe(EnvironmentSpec(build_context=tmp_path), RuntimeSettings.from_env().python)
    assert recipe.requirements == ("joblib", "azureml-inference-server-http")


def test_settings_from_environment(tmp_path: Path) -> None:
    settings = RuntimeSettings.from_env(
        {
            "MLEP_HOME": str(tmp_path),
            "MLEP_RUNTIME": "Process",
            "MLEP_IMAGE_MAP": "a/b:1=local:1, c=d",
            "MLEP_DOCKER_MOUNTS": "/x:/y:ro,/p:/q",
            "MLEP_DOCKER_NETWORK": "bridge",
        }
    )
    assert settings.backend == "process"
    assert settings.map_image("a/b:1") == "local:1" and settings.map_image("zzz") == "zzz"
    assert [m.as_arg() for m in settings.docker_mounts] == [
        "type=bind,source=/x,target=/y,readonly",
        "type=bind,source=/p,target=/q",
    ]
    assert settings.docker_network == "bridge"
    assert settings.env_cache == tmp_path / "envs"
    defaults = RuntimeSettings.from_env({"MLEP_HOME": str(tmp_path)})
    assert defaults.backend == "auto" and defaults.docker_network == "host"
    with pytest.raises(SettingsError):
        RuntimeSettings.from_env({"MLEP_RUNTIME": "kubernetes"})
    with pytest.raises(SettingsError):
        RuntimeSettings.from_env({"MLEP_IMAGE_MAP": "no-equals-sign"})


def test_log_tail_and_follow(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert tail(log, 3) == "line 997\nline 998\nline 999\n"
    assert tail(tmp_path / "missing.log", 3) == ""
    done = threading.Event()

    def writer() -> None:
        time.sleep(0.3)
        with log.open("a") as handle:
            handle.write("new 1\nnew 2\n")
        time.sleep(0.3)
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    seen = list(follow(log, lines=1, stop=done.is_set, poll=0.02))
    assert seen == ["line 999\n", "new 1\n", "new 2\n"]


def test_follow_goes_on_in_the_log_of_the_next_server(tmp_path: Path) -> None:
    old, new, link = tmp_path / "server-a.log", tmp_path / "server-b.log", tmp_path / "server.log"
    old.write_text("".join(f"old {i}\n" for i in range(50)))
    link.symlink_to(old.name)
    done = threading.Event()

    def switch() -> None:
        time.sleep(0.3)
        new.write_text("".join(f"new {i}\n" for i in range(60)))  # longer than the old log
        (tmp_path / "next").symlink_to(new.name)
        os.replace(tmp_path / "next", link)
        time.sleep(0.3)
        done.set()

    threading.Thread(target=switch, daemon=True).start()
    seen = list(follow(link, lines=1, stop=done.is_set, poll=0.02))
    assert seen == ["old 49\n"] + [f"new {i}\n" for i in range(60)]


def test_registry_and_auto_without_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"docker", "process"} <= set(available_backends())
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    choice = select_backend()
    assert choice.name == "process"
    assert "unix:///nonexistent/docker.sock" in choice.reason and "local processes" in choice.reason
    lines: list[str] = []
    assert get_backend(reporter=lines.append).name == "process"
    assert lines and "local processes" in lines[0]
    started = time.monotonic()
    with pytest.raises(DockerUnavailableError) as caught:
        get_backend("docker")
    assert time.monotonic() - started < 10
    assert "dockerd" in str(caught.value) and "MLEP_RUNTIME=process" in str(caught.value)


def test_auto_prefers_a_running_docker_engine(docker_backend: object) -> None:
    choice = select_backend()
    if choice.name != "docker":
        pytest.fail(f"a Docker engine should answer in the test environment: {choice.reason}")
    assert "Docker engine answers" in choice.reason
