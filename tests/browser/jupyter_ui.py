"""Driving a notebook in JupyterLab 4 / Notebook 7 from Playwright: open, wait for the kernel, run, read.

Pitfalls these helpers avoid (see NOTES-environment.md, "Browser tests"):

* "Run All" is ignored when clicked before the kernel is really attached: ``open_notebook`` starts
  the kernel through the REST API (it boots while the page loads), then waits until the toolbar
  names it, the server reports it idle with a connection for a moment, and the page's execution
  indicator is idle; ``run_all`` then checks that the first cell was queued.
* a failing cell makes the kernel drop the queued ones: ``wait_all_executed`` notices that nothing
  runs any more and fails at once with every cell's output, instead of timing out.
* a click can overtake the last widget change: ``wait_kernel_idle`` waits until the kernel has
  been idle (per the server) for a while before the caller clicks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import nbformat
from playwright.sync_api import Locator, Page
from support.waiting import wait_until as poll_until

from .conftest import JupyterServer

PROMPT_DONE = re.compile(r"^\[\d+\]:$")


def write_notebook(server: JupyterServer, name: str, cells: list[str]) -> str:
    """Write a Python 3 notebook of code ``cells`` into the server's root; its relative path."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, server.root / name)
    return name


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Call ``check`` until it returns something truthy; fail naming ``what`` on timeout."""
    return poll_until(check, timeout, interval, what=what)


def _session_kernel(server: JupyterServer, path: str) -> dict[str, Any] | None:
    with server.api() as api:
        for session in api.get("/api/sessions").json():
            if session.get("path") == path and session.get("kernel"):
                return dict(session["kernel"])
    return None


def wait_kernel_idle(server: JupyterServer, path: str, *, settle: float = 0.5, timeout: float = 60.0) -> str:
    """Wait until the notebook's kernel is connected and idle for ``settle`` seconds; its id."""
    idle_since: float | None = None
    deadline = time.monotonic() + timeout
    while True:
        kernel = _session_kernel(server, path)
        ready = kernel is not None and kernel["execution_state"] == "idle" and kernel["connections"] >= 1
        now = time.monotonic()
        if not ready:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= settle:
            assert kernel is not None
            return str(kernel["id"])
        if now > deadline:
            raise AssertionError(f"kernel of {path} not idle after {timeout} s: {kernel}")
        time.sleep(0.05)


def start_kernel(server: JupyterServer, path: str) -> None:
    """Start the notebook's session (a python3 kernel) through the REST API: the kernel then boots
    while the page loads, and the page attaches to it."""
    body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}
    with server.api() as api:
        response = api.post("/api/sessions", json=body, timeout=60.0)
    assert response.status_code == 201, response.text


def open_notebook(page: Page, server: JupyterServer, path: str, *, timeout: float = 90.0) -> None:
    """Open ``path`` in the server's UI and wait until its kernel is attached and idle."""
    start_kernel(server, path)
    page.goto(server.page_url(path), timeout=timeout * 1000)
    page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=timeout * 1000)
    kernel_name = page.locator(".jp-KernelName").first
    wait_until(
        "the toolbar to name the kernel",
        lambda: "python" in (kernel_name.text_content() or "").lower(),
        timeout,
    )
    wait_kernel_idle(server, path, timeout=timeout)
    indicator = page.locator(".jp-Notebook-ExecutionIndicator")
    if indicator.count():
        wait_until(
            "the execution indicator to show an idle kernel",
            lambda: indicator.first.get_attribute("data-status") in (None, "idle"),
            timeout,
        )


def run_all(page: Page, *, timeout: float = 10.0) -> None:
    """Run every cell through the UI's command (the same as Run ▸ Run All Cells), and check that it
    took: the first cell is queued, running or done."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_until("Run All to start the first cell", lambda: prompts(page)[0] != "[ ]:", timeout)


def cells(page: Page) -> Locator:
    return page.locator(".jp-Notebook .jp-Cell.jp-CodeCell")


def prompts(page: Page) -> list[str]:
    """The input prompt of every code cell (``[3]:``, ``[*]:``, ``[ ]:``)."""
    return [
        text.strip() for text in page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_text_contents()
    ]


def outputs_text(page: Page) -> str:
    """The prompt and output text of every code cell (for failure messages)."""
    parts = []
    for index, cell in enumerate(cells(page).all()):
        prompt = (cell.locator(".jp-InputPrompt").first.text_content() or "").strip()
        parts.append(f"--- cell {index} {prompt}\n{cell.locator('.jp-OutputArea').first.inner_text()}")
    return "\n".join(parts)


def wait_all_executed(page: Page, count: int, *, timeout: float = 300.0, grace: float = 3.0) -> None:
    """Wait until all ``count`` code cells ran (numbered prompts). Fail early, with the outputs,
    when the run stopped before the end (a cell raised: the kernel drops the queued cells)."""
    stalled_since: float | None = None
    deadline = time.monotonic() + timeout
    while True:
        shown = prompts(page)
        if len(shown) == count and all(PROMPT_DONE.match(p) for p in shown):
            return
        now = time.monotonic()
        if any("*" in p for p in shown):
            stalled_since = None
        elif stalled_since is None:
            stalled_since = now
        elif now - stalled_since > grace:
            raise AssertionError(
                f"the run stopped before the last cell (prompts {shown}):\n{outputs_text(page)}"
            )
        if now > deadline:
            raise AssertionError(
                f"cells still running after {timeout} s (prompts {shown}):\n{outputs_text(page)}"
            )
        time.sleep(0.25)


def output_bundles(page: Page, index: int) -> list[dict[str, Any]]:
    """The outputs of code cell ``index`` as the notebook model in the page holds them (nbformat
    JSON: ``output_type``, ``data`` with every MIME type…)."""
    outputs = page.evaluate(
        """index => {
            const panel = window.jupyterapp.shell.currentWidget;
            const code = panel.content.model.toJSON().cells.filter(c => c.cell_type === "code");
            return code[index].outputs;
        }""",
        index,
    )
    return list(outputs)
