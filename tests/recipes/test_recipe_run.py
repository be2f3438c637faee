"""``jupyter-mlep recipe run``: the run's summary, and a failing step named with our error's message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support.recipes import admin_token, outputs_json

from jupyter_mlep.commands.recipe import parse_value
from jupyter_mlep.recipes import RecipeError, describe_status, new_run_id, run_recipe, step_of
from jupyter_mlep.workspace import WorkspaceInfo

CLI = Path(sys.executable).with_name("jupyter-mlep")


def _broken_recipe(path: Path) -> Path:
    """A recipe whose second step scores an endpoint that does not exist, with a clean-up cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A broken recipe\n\n## Set up"),
        nbformat.v4.new_code_cell('target = "local"\nrun_id = ""'),
        nbformat.v4.new_code_cell("%load_ext jupyter_mlep\nfrom pathlib import Path"),
        nbformat.v4.new_markdown_cell("## Score the missing endpoint\n\nThis step fails."),
        nbformat.v4.new_code_cell("endpoint = f'missing-{run_id}'"),
        nbformat.v4.new_code_cell("%endpoint invoke $endpoint --data '{\"data\": [[1, 2]]}'"),
        nbformat.v4.new_code_cell("Path('not-reached').write_text('the cell after the failure ran')"),
        nbformat.v4.new_markdown_cell("## Clean up"),
        nbformat.v4.new_code_cell("Path(f'cleaned-{run_id}').write_text('clean-up ran')"),
    ]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.cells[-1].metadata["tags"] = ["cleanup"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_failing_step_exits_non_zero_naming_the_step_and_our_error(
    workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    recipe = _broken_recipe(tmp_path / "broken.ipynb")
    runs = tmp_path / "runs"
    finished = subprocess.run(
        [
            str(CLI),
            "recipe",
            "run",
            str(recipe),
            "-p",
            "target",
            "local",
            "--run-id",
            "r1x2y3",
            "--output",
            str(runs),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert (
        "error: step 'Score the missing endpoint' failed: NotFoundError: "
        "No online endpoint named 'missing-r1x2y3' exists." in finished.stderr
    )
    assert "CellExecutionError" not in finished.stdout + finished.stderr
    assert "Failed at step 'Score the missing endpoint'" in finished.stdout
    output = runs / "broken-r1x2y3.ipynb"
    assert f"Executed notebook: {output}" in finished.stdout
    workdir = runs / "broken-r1x2y3"
    assert (workdir / "cleaned-r1x2y3").is_file()  # the clean-up cell ran after the failure
    assert not (workdir / "not-reached").exists()  # the cells between did not
    assert admin_token(Path(workspace.home)) not in output.read_text() + outputs_json(output)


def test_successful_run_prints_a_summary_and_keeps_the_notebook(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('target = "local"\nrun_id = ""\nanswer = 0'),
        nbformat.v4.new_markdown_cell("## Compute"),
        nbformat.v4.new_code_cell(
            "import os\nfrom IPython.display import display\n"
            "display({'application/vnd.jupyter-mlep.status+json': {'kind': 'traffic', 'endpoint': run_id, "
            "'traffic': {'blue': answer}, 'mirror_traffic': {}}, 'text/plain': 'traffic'}, raw=True)\n"
            "assert os.environ['MLEP_WIDGETS'] == 'static'"
        ),
    ]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "ok.ipynb")
    finished = subprocess.run(
        [
            str(CLI),
            "recipe",
            "run",
            str(tmp_path / "ok.ipynb"),
            "-p",
            "answer",
            "100",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    [output] = (tmp_path / "out").glob("ok-*.ipynb")
    run_id = output.stem.removeprefix("ok-")
    assert f"Recipe ok.ipynb (run {run_id}) succeeded" in finished.stdout
    assert f"  Compute\n    traffic of {run_id}: blue=100%" in finished.stdout
    executed = nbformat.read(str(output), as_version=4)
    assert executed.metadata["kernelspec"]["name"] == "python3"  # the recipe's own, not the runner's


def test_step_is_the_step_tag_else_the_nearest_heading_else_the_cell_number() -> None:
    cells = [
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_markdown_cell("# Title\n\nText\n\n## Deploy blue\n\nmore text"),
        nbformat.v4.new_code_cell("b = 2"),
        nbformat.v4.new_code_cell("c = 3"),
    ]
    cells[3].metadata["tags"] = ["step=Shift traffic"]
    assert step_of(cells, 0) == "cell 1"
    assert step_of(cells, 2) == "Deploy blue"
    assert step_of(cells, 3) == "Shift traffic"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100", 100),
        ("0.5", 0.5),
        ("True", True),
        ("None", None),
        ("2s", "2s"),
        ("00000000-0000", "00000000-0000"),
    ],
)
def test_parameter_values_are_read_like_papermill_reads_them(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_run_ids_are_short_names() -> None:
    # Ids draw 1 of 26 letters then 5 of 36 characters: N = 26 * 36^5 = 1.57e9 ids. Two of 50 ids
    # clash with P <= C(50, 2) / N = 1225 / 1.57e9 = 7.8e-7 (< 1e-6; the birthday bound).
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 6 and i[0].isalpha() and i.isalnum() and i.islower() for i in ids)


def test_status_lines() -> None:
    assert (
        describe_status(
            {
                "kind": "rollout",
                "endpoint": "e",
                "deployment": "green",
                "outcome": "failed",
                "rolled_back": True,
                "traffic": {"blue": 100},
                "reason": "error_rate 100% is not < 1%",
            }
        )
        == "rollout of green on e: failed, rolled back (traffic blue=100%): error_rate 100% is not < 1%"
    )
    assert describe_status(
        {"kind": "invoke", "status": 200, "deployment": "blue", "elapsed": 0.012, "body": [1]}
    ) == ("invoke: 200 from blue in 12 ms: [1]")
    assert describe_status(
        {"kind": "job", "name": "t", "status": "Completed", "duration": 6.99, "error": ""}
    ) == ("job t: Completed in 7.0 s")
    assert describe_status(
        {
            "kind": "job-metrics",
            "name": "t",
            "metrics": {"loss": [{"step": 0, "value": 1.0}, {"step": 1, "value": 0.123456}]},
            "params": {"alpha": "0.1"},
        }
    ) == ("metrics of job t: loss 0.1235 (last values), 1 parameter(s)")
    assert describe_status(
        {"kind": "model", "name": "m", "version": "1", "type": "custom_model", "path": "p", "job": "t"}
    ) == ("model azureml:m:1 (custom_model) from job t")
    assert describe_status({"kind": "job-outputs", "name": "t", "files": {"model": ["a", "b"]}}) == (
        "outputs of job t: 2 file(s) downloaded"
    )
    assert describe_status({"kind": "something", "a": 1}) == "something: a=1"


def test_a_cell_timeout_names_the_running_step(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('target = "local"\nrun_id = ""'),
        nbformat.v4.new_markdown_cell("## Wait for something that never comes"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(60)"),
        nbformat.v4.new_code_cell("from pathlib import Path\nPath('cleaned').write_text('yes')"),
    ]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells[-1].metadata["tags"] = ["cleanup"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "slow.ipynb")
    with pytest.raises(RecipeError) as caught:  # raises as papermill does, naming the step
        run_recipe(tmp_path / "slow.ipynb", output_dir=tmp_path / "out", cell_timeout=2)
    result = caught.value.result
    assert caught.value.step == "Wait for something that never comes"
    assert "step 'Wait for something that never comes' failed: CellTimeoutError" in str(caught.value)
    assert result.failure is not None
    assert result.failure.step == "Wait for something that never comes"
    assert result.failure.ename == "CellTimeoutError"
    assert result.failure.evalue == "The cell ran longer than 2 s and was interrupted (--cell-timeout)."
    assert (result.workdir / "cleaned").is_file()  # the clean-up cell still ran
