"""CORS in a real browser: a page served from an allowed origin calls the local endpoint with
``fetch`` (an ``Authorization`` header, so Chromium sends a preflight first) and gets the answer; the
same page from another origin is refused by the browser. Once with ``AML_CORS_ORIGINS`` (the
inference server answers), once with an ``@rawhttp`` script that sets the CORS headers itself."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from support.clients import make_client
from support.raw_scripts import CORS_SCRIPT, JSON_SCRIPT, deployed_script
from support.waiting import unique

from jupyter_mlep.workspace import WorkspaceInfo

PAGE = "<!doctype html><title>client</title><p>scoring client</p>"
FETCH = """async ([url, key]) => {
  try {
    const answer = await fetch(url, {
      method: "POST",
      headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
      body: JSON.stringify({data: [1, 2, 3]}),
    });
    return {status: answer.status, body: await answer.json()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


@contextlib.contextmanager
def _site(folder: Path) -> Iterator[str]:
    """A static site on 127.0.0.1 (its own port, so its own origin); its origin."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _call(page: Page, origin: str, url: str, key: str) -> Any:
    page.goto(f"{origin}/index.html")
    return page.evaluate(FETCH, [url, key])


@pytest.mark.parametrize("configured", ["aml_cors_origins", "script"])
def test_fetch_from_another_origin_is_allowed_or_refused_as_configured(
    page: Page, workspace: WorkspaceInfo, tmp_path: Path, configured: str
) -> None:
    with _site(tmp_path / "allowed") as allowed, _site(tmp_path / "other") as other:
        script, env = (
            (JSON_SCRIPT, {"AML_CORS_ORIGINS": allowed})
            if configured == "aml_cors_origins"
            else (CORS_SCRIPT, {"ALLOWED_ORIGIN": allowed})
        )
        name = unique("cors")
        with (
            make_client(workspace) as client,
            deployed_script(client, tmp_path / "code", name, script, env) as key,
        ):
            url = f"{workspace.base_url}/endpoints/{name}/score"
            assert _call(page, allowed, url, key) == {"status": 200, "body": {"echo": {"data": [1, 2, 3]}}}
            refused = _call(page, other, url, key)
            assert "error" in refused and "Failed to fetch" in refused["error"], refused
