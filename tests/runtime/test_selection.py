"""``auto`` per environment: Docker only when the engine answers and the base image can be had."""

from __future__ import annotations

from pathlib import Path

from support.samples import AZURE_IMAGE, BASE_IMAGE

from jupyter_mlep.runtime import EnvironmentSpec, RuntimeSettings, select_backend, write_storage_log
from jupyter_mlep.runtime._state import deployment_dir


def test_auto_takes_docker_when_the_base_image_is_mapped(tmp_path: Path) -> None:
    settings = RuntimeSettings.from_env(
        {"MLEP_HOME": str(tmp_path), "MLEP_RUNTIME": "auto", "MLEP_IMAGE_MAP": f"{AZURE_IMAGE}={BASE_IMAGE}"}
    )
    choice = select_backend(settings, EnvironmentSpec(image=AZURE_IMAGE))
    assert (choice.name, choice.warning) == ("docker", "")


def test_auto_takes_processes_with_a_warning_when_the_base_image_cannot_be_had(tmp_path: Path) -> None:
    settings = RuntimeSettings.from_env({"MLEP_HOME": str(tmp_path), "MLEP_RUNTIME": "auto"})
    image = "registry.invalid/mlep/nowhere:1"
    choice = select_backend(settings, EnvironmentSpec(image=image))
    assert choice.name == "process"
    assert "Docker engine answers" in choice.reason and image in choice.reason
    assert (
        image in choice.warning and "local processes" in choice.warning and "MLEP_IMAGE_MAP" in choice.warning
    )
    # Without an environment, auto only asks whether an engine answers.
    assert select_backend(settings).name == "docker"
    # An explicit runtime is never second-guessed.
    explicit = RuntimeSettings.from_env({"MLEP_HOME": str(tmp_path), "MLEP_RUNTIME": "docker"})
    assert select_backend(explicit, EnvironmentSpec(image=image)).name == "docker"


def test_storage_log_lines_before_a_start(tmp_path: Path) -> None:
    settings = RuntimeSettings.from_env({"MLEP_HOME": str(tmp_path)})
    write_storage_log(settings, "ep", "blue", "warning: something to know")
    log = deployment_dir(settings.runtime_dir, "ep", "blue") / "storage-initializer.log"
    assert log.read_text().rstrip().endswith(" warning: something to know")
