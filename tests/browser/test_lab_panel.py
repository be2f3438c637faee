"""The Endpoints panel in JupyterLab 4 (real Chromium, real Jupyter server with the extension, the
test's local workspace): a notebook deploys blue and green and the panel shows each within 2 s of
its cell finishing; the panel's traffic editor moves green to 30% and applies it (checked through
the REST client); the log of blue opens in a tab; "Insert as cell" adds the magic to the notebook;
a papermill-executed notebook opened without a kernel shows the rich status.

How long each change took to show is written to ``test-artifacts/browser/panel-latency.txt``.
"""

from __future__ import annotations

import statistics
import time
import uuid
from pathlib import Path

import nbformat
import papermill
from playwright.sync_api import Locator, Page, expect
from support.notebooks import notebook

from .conftest import ARTIFACTS, JupyterServer, Shots
from .jupyter_ui import cells, open_notebook, prompts, run_all, wait_all_executed, wait_until
from .test_lab_widgets import DEPLOY_TIMEOUT, deploy_notebook, endpoint_traffic

VISIBLE_WITHIN = 2.0
"""Seconds between a change made by a magic and the panel showing it (the issue's target)."""


def panel(page: Page) -> Locator:
    return page.locator("#jupyter-mlep-endpoints")


def open_panel(page: Page) -> Locator:
    """Open the left sidebar's Endpoints panel; the panel."""
    page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-mlep-endpoints"]').click()
    expect(panel(page)).to_be_visible()
    return panel(page)


def notebook_tab(page: Page, path: str) -> Locator:
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=path)


def deployment_row(page: Page, endpoint: str, deployment: str) -> Locator:
    item = panel(page).locator(f'.mlep-item[data-kind="online-endpoint"][data-name="{endpoint}"]')
    return item.locator(f'.mlep-item[data-kind="online-deployment"][data-name="{deployment}"]')


def seen_after_cell(page: Page, index: int, row: Locator, text: str, timeout: float) -> float:
    """Seconds from cell ``index`` finishing (its prompt numbered) to ``row`` showing ``text``."""
    deadline = time.monotonic() + timeout
    finished: float | None = None
    while True:
        now = time.monotonic()
        if finished is None and prompts(page)[index].strip("[]:").isdigit():
            finished = now
        if finished is not None and row.count() and text in (row.first.inner_text() or ""):
            return time.monotonic() - finished
        assert now < deadline, f"cell {index} did not finish, or the panel did not show {text!r}"
        time.sleep(0.05)


def executed_status_notebook(root: Path, endpoint: str) -> str:
    """A notebook run by papermill (static outputs, as a recipe run leaves them) into the server's root."""
    source = notebook(
        root.parent / "status.ipynb",
        "%load_ext jupyter_mlep",
        f"%endpoint traffic {endpoint}",
        f"%endpoint show {endpoint}",
        parameters=None,
    )
    out = root / "status-executed.ipynb"
    papermill.execute_notebook(
        str(source), str(out), kernel_name="python3", progress_bar=False, cwd=str(root)
    )
    nb = nbformat.read(out, as_version=4)
    assert any(
        "application/vnd.jupyter-mlep.status+json" in o.get("data", {}) for c in nb.cells for o in c.outputs
    )
    return out.name


def test_lab_endpoints_panel(
    lab_server: JupyterServer, page: Page, shots: Shots, azureml_examples: Path
) -> None:
    endpoint = f"pn-{uuid.uuid4().hex[:8]}"
    path = deploy_notebook(lab_server, azureml_examples, endpoint)
    open_notebook(page, lab_server, path)
    side = open_panel(page)
    expect(side.locator('.mlep-section[data-kind="online-endpoint"]')).to_be_visible()

    run_all(page)
    latency = [
        seen_after_cell(page, 1, deployment_row(page, endpoint, "blue"), "Succeeded", DEPLOY_TIMEOUT),
        seen_after_cell(page, 2, deployment_row(page, endpoint, "green"), "Succeeded", DEPLOY_TIMEOUT),
    ]
    wait_all_executed(page, 4, timeout=DEPLOY_TIMEOUT)
    expect(deployment_row(page, endpoint, "blue").locator(".mlep-bar-value")).to_have_text("100%")
    expect(deployment_row(page, endpoint, "green").locator(".mlep-bar-value")).to_have_text("0%")
    shots("panel-deployed", side)

    # the traffic editor: green to 30 (the server's splitter gives blue the rest), then Apply
    item = side.locator(f'.mlep-item[data-kind="online-endpoint"][data-name="{endpoint}"]')
    item.locator(".mlep-item-actions").first.get_by_role("button", name="Traffic").click()
    editor = page.locator(".mlep-traffic-editor").last
    expect(editor).to_be_visible()
    green = editor.locator(".mlep-slider-green .mlep-percent")
    green.fill("30")
    green.press("Enter")
    expect(editor.locator(".mlep-slider-blue .mlep-percent")).to_have_value("70")
    assert endpoint_traffic(endpoint) == {"blue": 100, "green": 0}, "moving a share must not apply it"
    shots("traffic-editor", editor)
    editor.get_by_role("button", name="Apply").click()
    expect(editor.locator(".mlep-traffic-status")).to_have_text(
        "Traffic: blue=70%, green=30%", timeout=60_000
    )
    assert endpoint_traffic(endpoint) == {"blue": 70, "green": 30}
    applied = time.monotonic()
    expect(deployment_row(page, endpoint, "green").locator(".mlep-bar-value")).to_have_text(
        "30%", timeout=10_000
    )
    latency.append(time.monotonic() - applied)

    # a change made by a magic in the notebook shows in the panel
    notebook_tab(page, path).click()
    first = cells(page).nth(0)
    first.click()
    page.evaluate("window.jupyterapp.commands.execute('notebook:insert-cell-below')")
    cells(page).nth(1).locator(".cm-content").fill(f"%endpoint traffic {endpoint} blue=40 green=60")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
    latency.append(seen_after_cell(page, 1, deployment_row(page, endpoint, "green"), "60%", 60.0))

    # the log of blue in a main-area tab
    deployment_row(page, endpoint, "blue").get_by_role("button", name="Logs").click()
    log = page.locator(".mlep-logs .mlep-log").last
    wait_until("the log tab to show lines", lambda: len((log.text_content() or "").strip()) > 0, 30.0)
    shots("logs", page.locator(".mlep-logs").last)

    # "Insert as cell": the magic lands below the active cell of the notebook
    notebook_tab(page, path).click()
    count = cells(page).count()
    item.locator(".mlep-item-actions").first.get_by_role("button", name="Insert as cell").click()
    expect(cells(page)).to_have_count(count + 1)
    expect(page.locator(".jp-Notebook .jp-Cell", has_text=f"%endpoint show {endpoint}")).to_have_count(1)
    shots("inserted", page.locator(".jp-Notebook").first)

    # the running-sessions panel lists both local deployment servers
    page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jp-running-sessions"]').click()
    running = page.locator(".mlep-running-server")
    expect(running.filter(has_text=f"{endpoint}/blue")).to_have_count(1)
    expect(running.filter(has_text=f"{endpoint}/green")).to_have_count(1)
    shots("running-sessions", page.locator("#jp-running-sessions"))

    # a papermill-executed notebook, opened without a kernel, shows the rich status
    executed = executed_status_notebook(lab_server.root, endpoint)
    page.evaluate(
        "path => window.jupyterapp.commands.execute('docmanager:open', "
        "{path, factory: 'Notebook', kernelPreference: {shouldStart: false, canStart: false}})",
        executed,
    )
    expect(page.locator(".jp-NotebookPanel:visible .jp-KernelName").first).to_have_text("No Kernel")
    status = page.locator('.jp-NotebookPanel:visible .mlep-status[data-kind="traffic"]')
    expect(status).to_be_visible(timeout=30_000)
    expect(status.locator('.mlep-bar-row[data-deployment="green"] .mlep-bar-value')).to_have_text("60%")
    expect(page.locator('.jp-NotebookPanel:visible .mlep-status[data-kind="endpoint"]')).to_be_visible()
    shots("rendered-status", page.locator(".jp-NotebookPanel:visible .jp-Notebook"))
    with lab_server.api() as api:
        assert not [s for s in api.get("/api/sessions").json() if s["path"].endswith(executed)]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "panel-latency.txt").write_text(
        "change -> visible in the panel (s): "
        + ", ".join(f"{value:.2f}" for value in latency)
        + f"; median {statistics.median(latency):.2f}\n"
    )
    assert max(latency) < VISIBLE_WITHIN, latency
