"""A papermill engine that still runs the clean-up cells after a failed cell.

papermill stops at the first failing cell. A recipe that created an endpoint must still delete it,
so cells tagged ``cleanup`` run after a failure, in the same kernel, with the recipe's variables
intact. Their own errors are recorded in the notebook but do not hide the first failure, which is
the one the run reports. A cell that outlives the cell timeout is interrupted and counts as failed
(``CellTimeoutError``); the clean-up cells then run too. Only a dead kernel ends the run at once.
"""

from __future__ import annotations

from typing import Any

from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_output
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

from ._summary import CLEANUP_TAG

__all__ = ["ENGINE_NAME", "TIMEOUT_ENAME", "CleanupEngine", "register_engine", "timeout_options"]

ENGINE_NAME = "mlep"
TIMEOUT_ENAME = "CellTimeoutError"


def timeout_options(seconds: float | None) -> dict[str, Any]:
    """nbclient options: interrupt a cell running longer than ``seconds`` (the clean-up cells still
    run after it) and report it as a ``CellTimeoutError``."""
    if not seconds:
        return {}
    message = f"The cell ran longer than {seconds:g} s and was interrupted (--cell-timeout)."
    return {
        "execution_timeout": int(seconds),
        "interrupt_on_timeout": True,
        "error_on_timeout": {"ename": TIMEOUT_ENAME, "evalue": message, "traceback": []},
    }


class _CleanupClient(PapermillNotebookClient):  # type: ignore[misc]
    """papermill's client, with the clean-up cells run after a failure."""

    def papermill_execute_cells(self) -> None:
        failed = False
        for index, cell in enumerate(self.nb.cells):
            is_cleanup = CLEANUP_TAG in cell.get("metadata", {}).get("tags", [])
            if failed and not is_cleanup:
                continue
            try:
                self.nb_man.cell_start(cell, index)
                self.execute_cell(cell, index)
            except CellExecutionError as ex:
                if ex.ename == TIMEOUT_ENAME:  # interrupted: say so before the KeyboardInterrupt it caused
                    error = new_output("error", ename=ex.ename, evalue=ex.evalue, traceback=[])  # type: ignore[no-untyped-call]
                    self.nb.cells[index].outputs.insert(0, error)
                self.nb_man.cell_exception(self.nb.cells[index], cell_index=index, exception=ex)
                failed = True
            except Exception as ex:  # a cell timeout, a dead kernel: mark the cell, then stop
                self.nb_man.cell_exception(self.nb.cells[index], cell_index=index, exception=ex)
                raise
            finally:
                self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)


class CleanupEngine(NBClientEngine):  # type: ignore[misc]
    """The nbclient engine of papermill with :class:`_CleanupClient`."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        return _CleanupClient(nb_man, **final_kwargs).execute()


def register_engine() -> str:
    """Register the engine with papermill (idempotent); its name for ``engine_name``."""
    papermill_engines.register(ENGINE_NAME, CleanupEngine)
    return ENGINE_NAME
