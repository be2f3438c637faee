"""``run_recipe``: execute a notebook recipe with papermill and report what it did.

Each run gets a unique ``run_id`` (passed as a parameter, so the notebook's names never collide
with another run's), its own working folder and a kept output notebook. The kernel runs the
interpreter of this process (so it has jupyter_mlep) with ``MLEP_WIDGETS=static``: the output
notebook shows final states as text, next to the machine-readable status outputs the summary
is read from. After a failed cell, the cells tagged ``cleanup`` still run (see ``_engine``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import MlepError, RecipeError, UsageError
from ._summary import RecipeFailure, StatusOutput, describe_status, read_outcome, running_step

__all__ = ["DEFAULT_OUTPUT_DIR", "RecipeResult", "new_run_id", "run_recipe"]

DEFAULT_OUTPUT_DIR = Path("recipe-runs")
_KERNEL_NAME = "jupyter-mlep-recipe"


def new_run_id() -> str:
    """A short unique suffix for resource names: a letter, then five lowercase letters or digits.

    Short because Azure online endpoint names are at most 32 characters and unique per region.
    """
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return secrets.choice(alphabet[:26]) + "".join(secrets.choice(alphabet) for _ in range(5))


@dataclass
class RecipeResult:
    """What a recipe run did: where its output notebook is, its status outputs, and any failure."""

    notebook: Path
    """The recipe that ran."""
    output: Path
    """The executed notebook (kept, also after a failure)."""
    workdir: Path
    """The kernel's working folder (files the notebook wrote)."""
    run_id: str
    parameters: dict[str, Any]
    elapsed: float
    statuses: list[StatusOutput] = field(default_factory=list)
    failure: RecipeFailure | None = None

    @property
    def ok(self) -> bool:
        """True when every cell ran without error."""
        return self.failure is None

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The status outputs of one kind (``deploy``, ``invoke``, ``traffic``, ``rollout``, …), in order."""
        return [item.status for item in self.statuses if item.kind == kind]

    def summary(self) -> str:
        """A readable account of the run, step by step, read from its status outputs."""
        verdict = "succeeded" if self.ok else "FAILED"
        lines = [f"Recipe {self.notebook.name} (run {self.run_id}) {verdict} in {self.elapsed:.1f} s"]
        step = None
        deployed = {
            (item.cell, item.status.get("endpoint")) for item in self.statuses if item.kind == "deploy"
        }
        for item in self.statuses:
            if item.kind in ("logs", "keys"):
                continue
            if item.kind == "deployment" and (item.cell, item.status.get("endpoint")) in deployed:
                continue  # the live view of a deploy the cell's result describes too
            if item.step != step:
                step = item.step
                lines.append(f"  {step}")
            lines.append(f"    {describe_status(item.status)}")
        if self.failure is not None:
            lines.append(f"  Failed at step {self.failure.step!r}:")
            lines += [f"    {line}" for line in f"{self.failure.ename}: {self.failure.evalue}".splitlines()]
            for error in self.failure.cleanup_errors:
                lines.append(f"  Clean-up also failed: {error}")
        lines.append(f"Executed notebook: {self.output}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())


def _write_kernelspec(folder: Path) -> None:
    """A kernel spec running this interpreter, so the recipe sees the jupyter_mlep of this process."""
    spec = folder / "kernels" / _KERNEL_NAME
    spec.mkdir(parents=True)
    body = {
        # The kernel's own start-up warnings (e.g. about TCP transport) would only clutter the run's output.
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--log-level=ERROR"],
        "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (jupyter-mlep recipe)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec / "kernel.json").write_text(json.dumps(body, indent=1), encoding="utf-8")


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel papermill starts (it inherits them), then restore."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _parameter_names(path: Path) -> set[str]:
    import papermill

    try:
        return set(papermill.inspect_notebook(str(path)))
    except Exception:
        return set()


def run_recipe(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    output_dir: str | Path = DEFAULT_OUTPUT_DIR,
    run_id: str | None = None,
    kernel_name: str | None = None,
    env: Mapping[str, str] | None = None,
    cell_timeout: float | None = 1800.0,
    start_timeout: float = 120.0,
    log_output: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RecipeResult:
    """Run ``notebook`` with papermill; the :class:`RecipeResult` when every cell ran.

    A failing cell (after the clean-up cells ran), a cell timeout or a dead kernel raises
    :class:`~jupyter_mlep.RecipeError` naming the step, as papermill raises for a failing cell;
    its ``result`` holds the :class:`RecipeResult` (``failure``, status outputs, executed notebook).

    ``parameters`` are injected after the cell tagged ``parameters``; ``run_id`` (default: a new
    unique one) is added unless given there. The output is
    ``output_dir/<notebook>-<run_id>.ipynb`` and the kernel works in ``output_dir/<notebook>-<run_id>/``.
    ``kernel_name`` picks an installed kernel instead of this interpreter; ``env`` adds
    environment variables for the kernel (``MLEP_WIDGETS=static`` unless given), set in this process's
    environment while the kernel starts (so do not run recipes from several threads at once).
    A cell running longer than ``cell_timeout`` seconds is interrupted and fails the run.
    """
    import papermill

    from ._engine import register_engine, timeout_options

    source = Path(notebook).resolve()
    if not source.is_file():
        raise UsageError(f"No notebook at {notebook}.", hint="Give the path of an .ipynb file.")
    values = dict(parameters or {})
    run_id = str(values.pop("run_id", None) or run_id or new_run_id())
    known = _parameter_names(source)
    if known and "run_id" not in known:
        (progress or (lambda _t: None))(f"note: {source.name} has no run_id parameter; names may collide")
    values["run_id"] = run_id
    out_dir = Path(output_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{source.stem}-{run_id}.ipynb"
    workdir = out_dir / f"{source.stem}-{run_id}"
    workdir.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlep-kernel-") as kernels:
        variables = {"MLEP_WIDGETS": "static", **(env or {})}
        if kernel_name is None:
            _write_kernelspec(Path(kernels))
            path = os.environ.get("JUPYTER_PATH")
            variables["JUPYTER_PATH"] = kernels + (os.pathsep + path if path else "")
        if progress is not None:
            progress(f"Running {source.name} (run {run_id}); output: {output}")
        with _environ(variables):
            try:
                papermill.execute_notebook(
                    str(source),
                    str(output),
                    parameters=values,
                    engine_name=register_engine(),
                    kernel_name=kernel_name or _KERNEL_NAME,
                    language=None if kernel_name else "python",
                    cwd=str(workdir),
                    progress_bar=False,
                    log_output=log_output,
                    start_timeout=int(start_timeout),
                    **timeout_options(cell_timeout),
                )
            except papermill.PapermillExecutionError:
                pass  # read from the output notebook below, with the step it belongs to
            except Exception as exc:
                if not output.exists():
                    raise MlepError(
                        f"papermill could not run {source.name}: {type(exc).__name__}: {exc}",
                        hint="Check that it is a valid notebook with a Python kernel.",
                    ) from exc
                # A cell timeout or a dead kernel: blame the cell that was running.
                statuses, _ = read_outcome(output)
                step, index = running_step(output)
                stopped = RecipeFailure(step, index, type(exc).__name__, str(exc).strip() or "(no message)")
                return _finished(
                    RecipeResult(
                        source, output, workdir, run_id, values, time.monotonic() - started, statuses, stopped
                    )
                )
    _restore_kernelspec(source, output)
    statuses, failure = read_outcome(output)
    return _finished(
        RecipeResult(source, output, workdir, run_id, values, time.monotonic() - started, statuses, failure)
    )


def _finished(result: RecipeResult) -> RecipeResult:
    """``result`` when the run succeeded; else :class:`~jupyter_mlep.RecipeError` carrying it."""
    if result.failure is None:
        return result
    raise RecipeError(
        f"Recipe {result.notebook.name} (run {result.run_id}): {result.failure}",
        hint=result.summary(),
        result=result,
    )


def _restore_kernelspec(source: Path, output: Path) -> None:
    """Give the output notebook the recipe's own kernelspec (not the temporary one), so it opens anywhere."""
    import nbformat

    original = nbformat.read(str(source), as_version=4).metadata.get("kernelspec")  # type: ignore[no-untyped-call]
    executed = nbformat.read(str(output), as_version=4)  # type: ignore[no-untyped-call]
    if original and executed.metadata.get("kernelspec") != original:
        executed.metadata["kernelspec"] = original
        nbformat.write(executed, str(output))  # type: ignore[no-untyped-call]
