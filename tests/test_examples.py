"""The notebooks in examples/ are tested recipes: papermill runs each one top to bottom."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _outputs_text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_score_script_example_catches_the_broken_script_and_tests_the_good_one(
    tmp_path: Path, model_1: Path
) -> None:
    output = tmp_path / "score-script.ipynb"
    papermill.execute_notebook(
        str(EXAMPLES / "score-script.ipynb"),
        str(output),
        parameters={"model_dir": str(model_1), "workdir": str(tmp_path / "scripts")},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    text = _outputs_text(nbformat.read(output, as_version=4))
    assert "Caught before deployment" in text
    assert "run() requires threshold besides data" in text
    assert "Did you mean 'model/sklearn_regression_model.pkl'?" in text
    assert "4 checks passed" in text
    assert "[11055.977245525679, 4503.079536107787]" in text
    assert (tmp_path / "scripts" / "score.py").is_file()
