"""Real-browser fixtures: JupyterLab / Notebook 7 on loopback, headless Debian Chromium, a workspace.

* ``lab_server`` / ``notebook_server``: ``jupyter lab`` / ``jupyter notebook`` started for one test
  on 127.0.0.1 (random free port, random token), with a private HOME, XDG and JUPYTER_* folders
  under the test's tmp folder, the test's ``MLEP_HOME`` (kernels inherit the server's
  environment, so notebooks talk to the same local workspace as the test), and ``root`` as root
  folder. Stopped by PID at teardown: kernels shut down, then the server's process group and
  every process it spawned (kernels run in sessions of their own).
* ``browser``: the Debian ``chromium`` (``/usr/bin/chromium``) driven by Playwright's sync API;
  ``page``: a fresh context and page per test, with a screenshot on failure.
* ``workspace``: the test's local workspace (process runtime), started while Jupyter boots and
  stopped after it; deployment environments are cached in ``.cache/browser-envs`` between runs.

Screenshots and the server log go to ``test-artifacts/browser/`` (gitignored), named after the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, sync_playwright
from support.net import free_port
from support.workspace import running_workspace

from jupyter_mlep.workspace import WorkspaceInfo

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("MLEP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 60.0
LABEXTENSIONS = REPO / "labextension" / "dist"
"""The folder of this checkout's built JupyterLab extension (scripts/build-labextension)."""


def artifact_name(node: pytest.Item) -> str:
    """A file-name-safe name of the test (``test_x[param]`` → ``test_x-param``)."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in node.name).strip("-")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report on the item (the ``page`` fixture screenshots failures)."""
    report = yield
    setattr(item, f"mlep_report_{report.when}", report)
    return report


def private_env(base: Path) -> dict[str, str]:
    """This process's environment with HOME, XDG and Jupyter folders moved under ``base``."""
    env = dict(os.environ)
    folders = {
        "HOME": "home",
        "XDG_CONFIG_HOME": "xdg/config",
        "XDG_DATA_HOME": "xdg/data",
        "XDG_CACHE_HOME": "xdg/cache",
        "XDG_RUNTIME_DIR": "xdg/runtime",
        "JUPYTER_CONFIG_DIR": "jupyter/config",
        "JUPYTER_DATA_DIR": "jupyter/data",
        "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
        "JUPYTERLAB_SETTINGS_DIR": "jupyter/lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "jupyter/lab-workspaces",
        "IPYTHONDIR": "ipython",
    }
    for variable, sub in folders.items():
        path = base / sub
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[variable] = str(path)
    for variable in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH", "JUPYTER_TOKEN"):
        env.pop(variable, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _lab_settings(settings_dir: Path) -> None:
    """User settings of the test's Lab and Notebook 7: no news or update checks (nothing to fetch,
    no toast over the notebook), and every cell attached to the DOM (no windowing: the cells under
    test are found and shown whatever the scroll position)."""
    settings = {
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
            "doNotDisturbMode": True,
        },
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }
    for plugin, values in settings.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _enable_server_extension(config_dir: Path) -> None:
    """The panel's server extension on (what the wheel's ``etc/jupyter`` file does when installed)."""
    config = {"ServerApp": {"jpserver_extensions": {"jupyter_mlep.server": True}}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children, grandchildren…), from /proc."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        if (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _stop_pids(pids: list[int], timeout: float = 10.0) -> None:
    """SIGTERM the process group of each pid (or the pid), then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                try:
                    os.killpg(os.getpgid(pid), sig)
                except ProcessLookupError:
                    os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not any(_alive(pid) for pid in pids):
            return


@dataclass
class JupyterServer:
    """A running ``jupyter lab`` or ``jupyter notebook`` of one test."""

    kind: str
    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def api(self) -> httpx.Client:
        """An HTTP client of the server's REST API (token auth)."""
        return httpx.Client(base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=10.0)

    def page_url(self, notebook: str) -> str:
        """The address that opens ``notebook`` (relative to the root) in this server's UI."""
        prefix = "lab/tree" if self.kind == "lab" else "notebooks"
        return f"{self.url}/{prefix}/{notebook}?token={self.token}"

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def launch_server(kind: str, root: Path, base: Path, log: Path) -> JupyterServer:
    """Start ``jupyter lab`` / ``jupyter notebook`` (its own process group); see :func:`wait_ready`."""
    port, token = free_port(), secrets.token_hex(24)
    env = private_env(base)
    env.pop("MLEP_WIDGETS", None)  # the kernel must find out by itself that it runs in a live front end
    _lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    module = "jupyterlab" if kind == "lab" else "notebook"
    app = "LabApp" if kind == "lab" else "JupyterNotebookApp"
    command = [
        sys.executable,
        "-m",
        module,
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.shutdown_no_activity_timeout=0",
        "--MappingKernelManager.default_kernel_name=python3",
        f"--{app}.expose_app_in_browser=True",
    ]
    if kind == "lab":
        command += [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.extra_labextensions_path={LABEXTENSIONS}",  # this checkout's Endpoints panel
        ]
    _enable_server_extension(Path(env["JUPYTER_CONFIG_DIR"]))
    if os.geteuid() == 0:
        command.append("--allow-root")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return JupyterServer(kind, f"http://127.0.0.1:{port}", token, root, process, log)


def wait_ready(server: JupyterServer) -> None:
    """Poll ``/api/status`` until the server answers (fail at once if it exited)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    with server.api() as api:
        while True:
            if server.process.poll() is not None:
                raise AssertionError(
                    f"jupyter {server.kind} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if api.get("/api/status").status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"jupyter {server.kind} did not answer in {SERVER_START_TIMEOUT} s:\n{server.log_tail()}"
                )
            time.sleep(0.1)


def stop_server(server: JupyterServer) -> None:
    """Shut the kernels down, then the server; kill whatever of it is left (no orphans)."""
    spawned = descendants(server.process.pid)
    with contextlib.suppress(httpx.HTTPError, ValueError), server.api() as api:
        for kernel in api.get("/api/kernels").json():
            api.delete(f"/api/kernels/{kernel['id']}", timeout=20.0)
        api.post("/api/shutdown", timeout=10.0)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=10)
    spawned += descendants(server.process.pid)
    _stop_pids([server.process.pid, *spawned])
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=5)
    left = [pid for pid in spawned if _alive(pid)]
    assert not left, f"processes of jupyter {server.kind} survived: {left}"


@contextlib.contextmanager
def jupyter_server(kind: str, root: Path, request: pytest.FixtureRequest) -> Iterator[JupyterServer]:
    """A ``jupyter lab`` / ``jupyter notebook`` for one test, its workspace started while it boots;
    its log is copied to the artifacts."""
    base = request.getfixturevalue("tmp_path") / "jupyter"
    log = base / f"jupyter-{kind}.log"
    server = launch_server(kind, root, base, log)
    try:
        request.getfixturevalue("workspace")  # stopped after the server (its kernels) is
        wait_ready(server)
        yield server
    finally:
        try:
            stop_server(server)
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, ARTIFACTS / f"{artifact_name(request.node)}-jupyter-{kind}.log")


@pytest.fixture
def notebook_root(tmp_path: Path) -> Path:
    """The root folder of the test's Jupyter server (the notebook under test goes here)."""
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def lab_server(
    request: pytest.FixtureRequest, notebook_root: Path, runtime_env: None
) -> Iterator[JupyterServer]:
    """JupyterLab for this test; its kernels use the test's MLEP_HOME and ``workspace``."""
    with jupyter_server("lab", notebook_root, request) as server:
        yield server


@pytest.fixture
def notebook_server(
    request: pytest.FixtureRequest, notebook_root: Path, runtime_env: None
) -> Iterator[JupyterServer]:
    """Notebook 7 for this test; its kernels use the test's MLEP_HOME and ``workspace``."""
    with jupyter_server("notebook", notebook_root, request) as server:
        yield server


@pytest.fixture(scope="session")
def env_cache() -> Path:
    """Virtual environments of the deployments, kept between runs (``.cache/``, gitignored): the
    runtime caches them by content hash behind a lock and a ready marker, and building one takes
    most of a test's time."""
    path = REPO / ".cache" / "browser-envs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def runtime_env(isolated_settings: Path, env_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deployments run as local processes with the shared environment cache (for the workspace,
    and for the Jupyter server's kernels, which inherit it)."""
    monkeypatch.setenv("MLEP_RUNTIME", "process")
    monkeypatch.setenv("MLEP_ENVS_DIR", str(env_cache))


@pytest.fixture
def workspace(isolated_settings: Path, runtime_env: None) -> Iterator[WorkspaceInfo]:
    """The test's local workspace, in the test's MLEP_HOME."""
    with running_workspace(isolated_settings) as info:
        yield info


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync driver, stopped after the browser tests (it runs an event loop in this
    thread, which would break later tests that start their own)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Debian Chromium with a private HOME (never Playwright's downloaded browsers)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install the Debian packages chromium and chromium-driver (scripts/test does)"
        )
    env = private_env(tmp_path_factory.mktemp("chromium"))
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, env=env
    )
    try:
        yield launched
    finally:
        launched.close()


class Shots:
    """Screenshots of one test: ``test-artifacts/browser/<test>-<NN>-<stage>.png``, and when each
    was taken (seconds since the page opened) in ``<test>-timings.txt``."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.name = name
        self.count = 0
        self.started = time.monotonic()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{name}-*.png"):
            old.unlink()
        self.timings = ARTIFACTS / f"{name}-timings.txt"
        self.timings.write_text("")

    def __call__(self, stage: str, focus: Locator | None = None) -> Path:
        """Save a screenshot of the page, scrolled to ``focus`` first when given."""
        if focus is not None:
            focus.scroll_into_view_if_needed()
        self.count += 1
        path = ARTIFACTS / f"{self.name}-{self.count:02d}-{stage}.png"
        self.page.screenshot(path=str(path), full_page=True)
        with self.timings.open("a") as out:
            out.write(f"{time.monotonic() - self.started:7.1f} s  {path.name}\n")
        return path


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page (1400x1800) of its own browser context; a screenshot when the test failed."""
    name = artifact_name(request.node)
    for stale in (ARTIFACTS / f"{name}-failure.png", ARTIFACTS / f"{name}-console.log"):
        stale.unlink(missing_ok=True)
    context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 1800})
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    console: list[str] = []
    new_page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    new_page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    try:
        yield new_page
    finally:
        report = getattr(request.node, "mlep_report_call", None)
        if report is None or report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                new_page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)
            (ARTIFACTS / f"{name}-console.log").write_text("\n".join(console))
        context.close()


@pytest.fixture
def shots(page: Page, request: pytest.FixtureRequest) -> Shots:
    """``shots("stage")`` saves a screenshot named after the test and the stage."""
    return Shots(page, artifact_name(request.node))
