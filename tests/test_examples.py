"""The notebooks in examples/ are recipes: a ``parameters`` cell with ``target`` and ``run_id``,
markdown headings naming the steps, and (when they create anything) a final ``cleanup`` cell.

They are executed by papermill in ``tests/recipes/`` (against the local workspace).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_the_examples_are_there() -> None:
    assert {path.name for path in NOTEBOOKS} >= {
        "quickstart.ipynb",
        "blue-green.ipynb",
        "from-cli-yaml.ipynb",
        "deploy-to-azure.ipynb",
        "scheduled-redeploy.ipynb",
        "score-script.ipynb",
        "train-and-deploy.ipynb",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_example_is_a_recipe(path: Path) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    cells = notebook.cells
    [parameters] = [cell for cell in cells if "parameters" in cell.metadata.get("tags", [])]
    names = {
        target.id
        for node in ast.parse(parameters.source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert {"target", "run_id"} <= names
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert all(not cell.get("outputs") for cell in cells if cell.cell_type == "code"), "outputs are stored"
    assert "../shared" not in "".join(cell.source for cell in cells if cell.cell_type == "code")
    if any("%endpoint deploy" in cell.source for cell in cells):
        assert "cleanup" in cells[-1].metadata.get("tags", []), "the last cell must be the clean-up cell"
