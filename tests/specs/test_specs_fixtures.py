"""Every Azure ML YAML file under the fixtures loads, or names its {{PLACEHOLDER}}s.

Skipped, because they are not Azure ML specs: conda environment files (no ``$schema``, top-level
``channels``/``dependencies``: ``conda*.yaml`` and the two ``env.yml``). ``MLmodel`` is YAML
too but has no .yml/.yaml suffix, so the globs do not see it. ``load_spec`` refuses conda
files with a message that says so, which is checked below.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from jupyter_mlep._errors import PlaceholderError, SpecError
from jupyter_mlep.specs import (
    CommandJob,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
    SweepJob,
    load_spec,
)

# the same root as the azureml_examples fixture (needed at collection time, for the parameters)
FIXTURES = Path(
    os.environ.get(
        "MLEP_SHARED_FIXTURES",
        Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "azureml-examples",
    )
)
TEMPLATED = {
    "cli/endpoints/online/managed/minimal/single-model-registered/deployment.yml": {
        "ENDPOINT_NAME",
        "MODEL_VERSION",
    },
    "cli/endpoints/online/managed/minimal/single-model-registered/model.yml": {"MODEL_VERSION"},
    "cli/endpoints/online/custom-container/tfserving/half-plus-two/tfserving-deployment.yml": {
        "MODEL_VERSION"
    },
    "cli/endpoints/online/custom-container/minimal/multimodel/minimal-multimodel-deployment.yml": {
        "ENDPOINT_NAME",
        "ACR_NAME",
    },
    # valid YAML, but the endpoint name is the literal text "{{ENDPOINT_NAME}}"
    "cli/endpoints/online/custom-container/minimal/multimodel/minimal-multimodel-endpoint.yml": {
        "ENDPOINT_NAME"
    },
}


def _is_conda_file(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return False
    return (
        isinstance(data, dict) and "$schema" not in data and {"channels", "dependencies"} & set(data) != set()
    )


def _yaml_files() -> list[Path]:
    return sorted([*FIXTURES.glob("**/*.yml"), *FIXTURES.glob("**/*.yaml")])


SPEC_FILES = [path for path in _yaml_files() if not _is_conda_file(path)]
CONDA_FILES = [path for path in _yaml_files() if _is_conda_file(path)]


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


def test_the_fixture_set_is_the_one_described(azureml_examples: Path) -> None:
    assert azureml_examples.resolve() == FIXTURES.resolve()
    assert len(SPEC_FILES) == 52
    assert sorted(path.name for path in CONDA_FILES) == [
        "conda-managedidentity.yaml",
        "conda.yaml",
        "conda.yaml",
        "conda.yaml",
        "conda.yaml",
        "env.yml",
        "env.yml",
    ]


@pytest.mark.parametrize("path", [p for p in SPEC_FILES if _id(p) not in TEMPLATED], ids=_id)
def test_every_spec_file_loads(path: Path) -> None:
    spec = load_spec(path)
    assert spec.source == path.resolve()
    expected = {
        "managedOnlineEndpoint": ManagedOnlineEndpoint,
        "kubernetesOnlineEndpoint": KubernetesOnlineEndpoint,
        "managedOnlineDeployment": ManagedOnlineDeployment,
        "kubernetesOnlineDeployment": KubernetesOnlineDeployment,
        "model": Model,
        "commandJob": CommandJob,
        "sweepJob": SweepJob,
    }
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))["$schema"]
    kind = schema.rsplit("/", 1)[-1].removesuffix(".schema.json")
    assert type(spec) is expected[kind]


@pytest.mark.parametrize("relative", sorted(TEMPLATED), ids=str)
def test_templated_files_name_their_placeholders(relative: str) -> None:
    path = FIXTURES / relative
    with pytest.raises(PlaceholderError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert str(path) in message
    for name in TEMPLATED[relative]:
        assert "{{" + name + "}}" in message
    assert "replace" in message.lower()


def test_a_templated_name_can_be_overridden() -> None:
    path = (
        FIXTURES / "cli/endpoints/online/custom-container/minimal/multimodel/minimal-multimodel-endpoint.yml"
    )
    with pytest.raises(PlaceholderError, match=r"overrides=\{'name': \.\.\.\}"):
        load_spec(path)
    endpoint = load_spec(path, overrides={"name": "multimodel-endpoint"})
    assert endpoint.name == "multimodel-endpoint"


def test_a_filled_template_loads(tmp_path: Path) -> None:
    source = FIXTURES / "cli/endpoints/online/managed/minimal/single-model-registered/deployment.yml"
    text = source.read_text(encoding="utf-8").replace("{{ENDPOINT_NAME}}", "smr-endpoint")
    copy = tmp_path / "deployment.yml"
    copy.write_text(text.replace("{{MODEL_VERSION}}", "3"), encoding="utf-8")
    deployment = load_spec(copy)
    assert isinstance(deployment, ManagedOnlineDeployment)
    assert deployment.endpoint_name == "smr-endpoint"
    assert str(deployment.model) == "azureml:minimalregistered:3"


@pytest.mark.parametrize("path", CONDA_FILES, ids=_id)
def test_conda_files_are_not_specs(path: Path) -> None:
    with pytest.raises(SpecError, match="looks like a conda environment file"):
        load_spec(path)
