"""Notebook recipes: run an ``examples/*.ipynb``-style notebook with papermill and report on it.

A recipe is a notebook with a cell tagged ``parameters`` (at least ``target`` and ``run_id``, the
suffix that keeps its resource names unique), markdown headings naming its steps, and a final
clean-up cell tagged ``cleanup``::

    from jupyter_mlep.recipes import run_recipe

    result = run_recipe("examples/quickstart.ipynb", {"target": "local"}, output_dir="recipe-runs")
    print(result.summary())          # what was deployed, traffic, invoke results
    result.of_kind("invoke")         # the status outputs of one kind

A failing step raises :class:`~jupyter_mlep.RecipeError` (as papermill raises for a failing cell)
after the clean-up cells ran; ``error.step`` names the step and ``error.result`` is the whole run
(``error.result.failure``: the cell's error, ``error.result.summary()``, the executed notebook).

The command line is ``jupyter-mlep recipe run NOTEBOOK -p NAME VALUE … --output DIR``.
"""

from .._errors import RecipeError
from ._run import DEFAULT_OUTPUT_DIR, RecipeResult, new_run_id, run_recipe
from ._summary import CLEANUP_TAG, RecipeFailure, StatusOutput, describe_status, read_outcome, step_of

__all__ = [
    "CLEANUP_TAG",
    "DEFAULT_OUTPUT_DIR",
    "RecipeError",
    "RecipeFailure",
    "RecipeResult",
    "StatusOutput",
    "describe_status",
    "new_run_id",
    "read_outcome",
    "run_recipe",
    "step_of",
]
