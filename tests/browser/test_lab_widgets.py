"""The widgets in a real browser: a notebook deploys blue and green to the local workspace, the status
widgets show Succeeded, the traffic sliders are moved and applied, and the endpoint's traffic (read
through the REST client) follows. In JupyterLab 4, then in Notebook 7.

Screenshots of every stage: ``test-artifacts/browser/<test>-NN-<stage>.png``.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from support.samples import SCORE_MODEL_1, SCORE_MODEL_2

from jupyter_mlep import operations, settings
from jupyter_mlep.rest import RestClient

from .conftest import JupyterServer, Shots
from .jupyter_ui import (
    cells,
    open_notebook,
    output_bundles,
    run_all,
    wait_all_executed,
    wait_kernel_idle,
    wait_until,
    write_notebook,
)

DEPLOY_TIMEOUT = 300.0  # the first deployment of a session builds the environment
WIDGET_TIMEOUT_MS = 60_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BUNDLE = {WIDGET_VIEW, "text/plain", "text/html", "application/vnd.jupyter-mlep.status+json"}


def deploy_notebook(server: JupyterServer, examples: Path, endpoint: str) -> str:
    """A notebook deploying blue (model-1, all traffic) and green (model-2, no traffic), then showing
    the traffic widget; scoring scripts and conda file next to it. Its path in the server."""
    online = examples / "cli" / "endpoints" / "online"
    for name, script in (("blue", SCORE_MODEL_1), ("green", SCORE_MODEL_2)):
        (server.root / name).mkdir()
        (server.root / name / "score.py").write_text(script)
    shutil.copyfile(online / "model-1" / "environment" / "conda.yaml", server.root / "conda.yml")
    common = "--scoring-script score.py --env conda.yml"
    return write_notebook(
        server,
        "blue-green.ipynb",
        [
            "%load_ext jupyter_mlep",
            f"%endpoint deploy {endpoint} blue --model {online / 'model-1' / 'model'} --code blue {common} --all-traffic",
            f"%endpoint deploy {endpoint} green --model {online / 'model-2' / 'model'} --code green {common} --traffic 0",
            f"%endpoint traffic {endpoint}",
        ],
    )


def endpoint_traffic(endpoint: str) -> dict[str, int]:
    """The endpoint's live traffic as the local workspace reports it (read from the test process)."""
    with RestClient.from_settings(settings.resolve({"target": "local"})) as client:
        return dict(operations.get_traffic(client, endpoint).traffic)


def readout(traffic: Locator, deployment: str) -> Locator:
    return traffic.locator(f".mlep-slider-{deployment} .widget-readout")


def type_into_readout(page: Page, traffic: Locator, deployment: str, value: int) -> None:
    """Set a slider by typing into its number box (Enter commits; no arrow keys, no drag)."""
    readout(traffic, deployment).click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")


def drag_slider(page: Page, traffic: Locator, deployment: str, value: int) -> None:
    """Set a slider by dragging its handle with the mouse (Notebook 7 binds arrow keys), correcting
    the drop point until the handle reports ``value``."""
    slider = traffic.locator(f".mlep-slider-{deployment}")
    handle = slider.locator(".noUi-handle")
    base = slider.locator(".noUi-base").bounding_box()
    assert base is not None
    low = float(handle.get_attribute("aria-valuemin") or 0)
    high = float(handle.get_attribute("aria-valuemax") or 100)
    target_x = base["x"] + base["width"] * (value - low) / (high - low)
    for _ in range(6):
        box = handle.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(target_x, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        now = round(float(handle.get_attribute("aria-valuenow") or 0))
        if now == value:
            return
        target_x += (value - now) * base["width"] / (high - low)
    raise AssertionError(f"could not drag {deployment}'s slider to {value} (it shows {now})")


def deploy_and_move_traffic(
    page: Page,
    server: JupyterServer,
    shots: Shots,
    examples: Path,
    set_slider: Callable[[Page, Locator, str, int], None],
) -> None:
    """The whole flow in the server's UI, asserting each stage on screen and through REST."""
    endpoint = f"br-{uuid.uuid4().hex[:8]}"
    path = deploy_notebook(server, examples, endpoint)
    open_notebook(page, server, path)
    shots("opened")

    run_all(page)
    wait_all_executed(page, 4, timeout=DEPLOY_TIMEOUT)
    for index, deployment in ((1, "blue"), (2, "green")):
        status = cells(page).nth(index).locator(".mlep-status").first
        expect(status).to_contain_text("Succeeded", timeout=WIDGET_TIMEOUT_MS)
        expect(status).to_contain_text(deployment)
        expect(status.locator(".mlep-state").first).to_have_text("Succeeded")
    shots("deployed", cells(page).nth(2))
    for index in (1, 2, 3):
        widget_outputs = [out for out in output_bundles(page, index) if WIDGET_VIEW in out.get("data", {})]
        assert widget_outputs, f"cell {index} shows no widget: {output_bundles(page, index)}"
        assert set(widget_outputs[0]["data"]) >= BUNDLE, widget_outputs[0]["data"].keys()

    traffic = cells(page).nth(3).locator(".mlep-traffic").first
    expect(traffic).to_be_visible()
    expect(readout(traffic, "blue")).to_have_text("100")
    expect(readout(traffic, "green")).to_have_text("0")
    expect(traffic.locator(".mlep-mirror")).to_have_count(1)
    assert endpoint_traffic(endpoint) == {"blue": 100, "green": 0}
    shots("traffic-widget", traffic)

    set_slider(page, traffic, "green", 30)
    expect(readout(traffic, "green")).to_have_text("30")
    expect(readout(traffic, "blue")).to_have_text("70")  # the widget keeps the sum at 100
    wait_kernel_idle(server, path)  # so that Apply cannot overtake the slider change
    assert endpoint_traffic(endpoint) == {"blue": 100, "green": 0}, "moving a slider must not apply it"
    shots("sliders-moved", traffic)

    traffic.get_by_role("button", name="Apply").click()
    line = traffic.locator(".mlep-traffic-status")
    expect(line).to_contain_text("blue=70%", timeout=WIDGET_TIMEOUT_MS)
    expect(line).to_contain_text("green=30%")
    shots("applied", traffic)
    wait_until(
        "the endpoint to report blue=70, green=30",
        lambda: endpoint_traffic(endpoint) == {"blue": 70, "green": 30},
        10.0,
    )


def test_lab_deploy_status_and_traffic_sliders(
    lab_server: JupyterServer, page: Page, shots: Shots, azureml_examples: Path
) -> None:
    deploy_and_move_traffic(page, lab_server, shots, azureml_examples, type_into_readout)


def test_notebook7_deploy_status_and_traffic_sliders(
    notebook_server: JupyterServer, page: Page, shots: Shots, azureml_examples: Path
) -> None:
    deploy_and_move_traffic(page, notebook_server, shots, azureml_examples, drag_slider)
