"""Curated environment references and the table they resolve to; conda files checked with their
file name and line (specs, the runtime's reader)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from jupyter_mlep import _errors as errors
from jupyter_mlep.runtime._conda import read_conda_file
from jupyter_mlep.runtime._environment import venv_recipe
from jupyter_mlep.specs import AssetReference, load_deployment
from jupyter_mlep.specs._conda import check_conda, load_conda_file, load_conda_text
from jupyter_mlep.specs._curated import (
    CURATED_ENVIRONMENTS,
    curated_conda,
    curated_environment,
    curated_name,
    unknown_curated,
)
from jupyter_mlep.workspace.resolve import resolve_environment

README = Path(__file__).resolve().parents[2] / "README.md"
BROKEN = "name: env\ndependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn\n   - numpy: [\n"


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("azureml://registries/azureml/environments/sklearn-1.5/labels/latest", "sklearn-1.5"),
        ("azureml://registries/azureml/environments/lightgbm-3.3/versions/12", "lightgbm-3.3"),
        ("azureml:AzureML-sklearn-1.5@latest", "sklearn-1.5"),
        ("azureml:AzureML-ACPT-pytorch-2.8-cuda12.6:3", "ACPT-pytorch-2.8-cuda12.6"),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
            "/environments/AzureML-minimal-py312-inference/labels/latest",
            "minimal-py312-inference",
        ),
        ("azureml:my-env:1", None),
        ("azureml://registries/other/environments/sklearn-1.5/labels/latest", None),
        ("azureml://registries/azureml/models/sklearn-1.5/versions/1", None),
    ],
)
def test_curated_references_are_recognised(reference: str, name: str | None) -> None:
    assert curated_name(AssetReference.parse(reference)) == name
    if name is not None:
        assert curated_environment(name) is not None  # case-insensitive


def test_the_table_covers_the_current_generation() -> None:
    names = set(CURATED_ENVIRONMENTS)
    for wanted in ("sklearn-1.5", "lightgbm-3.3", "mlflow-py312-inference", "minimal-py312-inference"):
        assert wanted in names
    assert any(name.startswith("acpt-pytorch-2.") for name in names)
    assert any(name.startswith("tensorflow-2.") for name in names)
    packages = {entry.name: " ".join(entry.packages) for entry in CURATED_ENVIRONMENTS.values()}
    assert "scikit-learn" in packages["sklearn-1.5"] and "xgboost" in packages["lightgbm-3.3"]
    assert "lightgbm" in packages["lightgbm-3.3"] and "mlflow" in packages["mlflow-py312-inference"]
    for entry in CURATED_ENVIRONMENTS.values():  # every table entry is a valid conda file
        check_conda(curated_conda(entry), entry.name)


def test_the_readme_lists_every_curated_environment() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Curated environments") :]
    for entry in CURATED_ENVIRONMENTS.values():
        assert f"`{entry.name}`" in section


def test_unknown_curated_name_lists_the_known_ones() -> None:
    error = unknown_curated("sklearn-0.1", "azureml:AzureML-sklearn-0.1@latest")
    assert isinstance(error, errors.SpecValidationError)
    assert "sklearn-1.5" in error.message and "minimal-py312-inference" in error.message
    assert "conda_file" in (error.hint or "")


def test_fixture_curated_reference_resolves_to_scikit_learn(azureml_examples: Path) -> None:
    """The sklearn-1.5 reference of the azureml-examples fixture builds scikit-learn (runtime recipe)."""
    path = azureml_examples / "cli/endpoints/online/managed/sample/blue-deployment-with-curated-env.yml"
    spec = load_deployment(path)
    assert isinstance(spec.environment, AssetReference)
    environment = resolve_environment(None, str(spec.environment))  # type: ignore[arg-type]
    assert environment.name == "curated:sklearn-1.5"
    recipe = venv_recipe(environment, sys.executable)
    assert any(re.match(r"scikit-learn\b", req) for req in recipe.requirements)
    assert any(req.startswith("azureml-inference-server-http") for req in recipe.requirements)


def test_unknown_curated_and_other_registries_are_refused_by_the_workspace_resolver() -> None:
    from jupyter_mlep.workspace.arm import ArmError

    with pytest.raises(ArmError, match=r"Known: .*sklearn-1\.5") as caught:
        resolve_environment(None, "azureml://registries/azureml/environments/nope/labels/latest")  # type: ignore[arg-type]
    assert caught.value.status == 400
    with pytest.raises(ArmError, match="registry 'elsewhere'"):
        resolve_environment(None, "azureml://registries/elsewhere/environments/x/versions/1")  # type: ignore[arg-type]


def test_malformed_conda_file_names_the_file_and_the_line(tmp_path: Path) -> None:
    conda = tmp_path / "env.yml"
    conda.write_text(BROKEN)
    with pytest.raises(errors.SpecValidationError) as caught:
        load_conda_file(conda)
    message = str(caught.value)
    assert str(conda) in message and "line 6" in message and "<unicode string>" not in message
    with pytest.raises(errors.EnvironmentBuildError) as built:
        read_conda_file(conda)
    assert str(conda) in str(built.value) and "line 6" in str(built.value)
    assert "<unicode string>" not in str(built.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "dependencies:\n  - python=3.11\n  - pip:\n    - 'scikit learn'\n",
            r"pip requirement 'scikit learn'.*line 4",
        ),
        ("dependencies:\n  - python=3.11\n  - {conda: [x]}\n", r"not understood.*line 3"),
        ("dependencies: numpy\n", r"'dependencies' must be a list.*line 1"),
        ("dependencies:\n  - 3.11\n", r"dependency 3.11 is not a conda package"),
        ("- just\n- a list\n", r"must hold a mapping"),
    ],
)
def test_conda_files_must_name_installable_requirements(text: str, match: str) -> None:
    with pytest.raises(errors.SpecValidationError, match=match):
        check_conda(load_conda_text(text, "env.yml"), "env.yml", text=text)


def test_valid_conda_files_pass(azureml_examples: Path) -> None:
    for conda in sorted(azureml_examples.rglob("conda*.y*ml")):
        data = load_conda_file(conda)
        assert isinstance(data, dict)
    text = (
        "dependencies:\n- numpy 1.26 py_0\n- conda-forge::scipy>=1.10\n- pytorch::pytorch=2.2=cpu\n- pip\n"
        "- pip: ['--extra-index-url https://example.org/simple', 'a[b]>=1; python_version>\"3\"']\n"
    )
    assert check_conda(yaml.safe_load(text), "env.yml")[-1].startswith("a[b]")
