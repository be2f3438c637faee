"""The target registry: what ``local`` and ``azure`` declare, how settings, the REST client and
``%mlep use`` resolve through it, and a scan proving that nothing else compares target names."""

from __future__ import annotations

import ast
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlep
from jupyter_mlep import ServiceUnreachableError, SettingsError, UsageError, WorkspaceUnavailableError
from jupyter_mlep import targets as registry
from jupyter_mlep.rest import RestClient, RetryPolicy, StaticTokenCredential, TokenCredential
from jupyter_mlep.settings import Settings, resolve
from jupyter_mlep.targets import Address, Capabilities, Target, Unreachable, get_target, target_names

PACKAGE = Path(jupyter_mlep.__file__).parent
REGISTRY_MODULE = PACKAGE / "targets.py"
ONE_TRY = RetryPolicy(attempts=1, total=1.0, backoff=0.01)


# -- the scan: nothing outside the registry compares target names ---------------------------


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _is_target(node: ast.AST) -> bool:
    """``x.target``, ``x["target"]`` or ``x.get("target")``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "target"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "target"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "target"
    return False


def target_comparisons(source: str, names: set[str]) -> list[str]:
    """Comparisons in ``source`` of a target (``.target``, ``["target"]``) with string literals, and
    any comparison, ``match`` case or dict key using a target name as a literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            literals = {value for side in sides for value in _strings(side)}
            if (literals and any(_is_target(side) for side in sides)) or literals & names:
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Match):
            for case in node.cases:
                values = {
                    n.value.value
                    for n in ast.walk(case.pattern)
                    if isinstance(n, ast.MatchValue) and isinstance(n.value, ast.Constant)
                }
                if values and (_is_target(node.subject) or values & names):
                    found.append(f"line {case.pattern.lineno}: match case {sorted(values)}")
        elif isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if keys & names:
                found.append(f"line {node.lineno}: dict keyed by {sorted(keys & names)}")
    return found


def test_nothing_outside_the_registry_compares_target_names() -> None:
    names = set(target_names())
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == REGISTRY_MODULE:
            continue
        for hit in target_comparisons(path.read_text(encoding="utf-8"), names):
            offenders.append(f"{path.relative_to(PACKAGE.parent)} {hit}")
    assert offenders == [], "ask client.capabilities / the registry instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        'if client.target == "local":\n    pass',
        'if settings.target != "azure":\n    pass',
        'ok = args.target not in ("local", "azure")',
        'ok = values["target"] == "azure"',
        'ok = values.get("target") == "local"',
        'ok = "local" == name',
        'match settings.target:\n    case "azure":\n        pass',
        'scope = {"local": None, "azure": "x"}[name]',
    ],
)
def test_the_scan_finds_each_kind_of_comparison(source: str) -> None:
    assert target_comparisons(source, {"local", "azure"})


def test_the_scan_lets_other_code_be() -> None:
    source = (
        'settings = resolve({"target": "local"})\n'
        'shown = f"({client.target})"\n'
        'route = parts[3] in ("score", "swagger.json")\n'
        "if client.capabilities.implicit_start:\n    pass\n"
    )
    assert target_comparisons(source, {"local", "azure"}) == []


# -- the registry ---------------------------------------------------------------------------


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A copy of the registry for this test: targets registered here vanish afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    yield


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CountingCredential:
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.scopes.append(scopes)
        return StaticTokenCredential("t" * 32).get_token(*scopes)


def test_local_and_azure_are_registered_with_what_they_can_do() -> None:
    assert target_names() == ["local", "azure"]
    local, azure = get_target("local"), get_target("azure")
    assert local.capabilities == Capabilities(
        metrics_delay=0.0, scoring_scope=None, implicit_start=True, debugger=True, deployment_servers=True
    )
    assert local.start is not None and local.unreachable is not None
    assert local.unreachable.error is WorkspaceUnavailableError
    assert azure.capabilities.implicit_start is False
    assert azure.capabilities.metrics_delay >= 60, "Azure Monitor publishes metrics minutes late"
    assert azure.capabilities.debugger is False  # deploy --debug is refused there
    assert azure.capabilities.deployment_servers is False  # profile --direct is refused there
    assert azure.capabilities.scoring_scope == "https://ml.azure.com/.default"
    assert azure.start is None and azure.unreachable is None
    assert set(azure.required) == {"subscription_id", "resource_group", "workspace_name"}
    assert "arm_url" in azure.settings and local.settings == ()
    assert get_target("LOCAL") is local


def test_an_unknown_target_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Unknown target 'cloud'") as caught:
        get_target("cloud")
    assert caught.value.hint == "Use 'local' or 'azure'."
    with pytest.raises(SettingsError, match="Unknown target 'cloud'") as resolved:
        resolve({"target": "cloud"}, environ={}, cwd=tmp_path)
    assert resolved.value.hint == "Use 'local' or 'azure'."


def test_azure_address_comes_from_the_settings(tmp_path: Path) -> None:
    settings = resolve(
        {"target": "azure", "subscription_id": "s", "resource_group": "r", "workspace_name": "w"},
        environ={"MLEP_ARM_URL": "https://management.usgovcloudapi.net"},
        cwd=tmp_path,
    )
    address = get_target("azure").address(settings)
    assert address.base_url == "https://management.usgovcloudapi.net"
    assert address.workspace_path == settings.workspace_path
    assert address.scope == "https://management.usgovcloudapi.net/.default"


def test_local_address_needs_a_running_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceUnavailableError, match="No local workspace runs") as caught:
        get_target("local").address(Settings(home=tmp_path))
    assert caught.value.hint and "jupyter-mlep workspace start" in caught.value.hint


def test_the_start_hook_runs_only_for_an_implicit_start(tmp_path: Path) -> None:
    started: list[Path] = []

    def address(settings: Settings) -> Address:
        return Address("http://127.0.0.1:9", "/ws", lambda: StaticTokenCredential("x" * 32))

    lazy = Target(
        "lazy", "test", Capabilities(implicit_start=False), address, start=lambda s: started.append(s.home)
    )
    eager = Target(
        "eager", "test", Capabilities(implicit_start=True), address, start=lambda s: started.append(s.home)
    )
    assert lazy.connect(Settings(home=tmp_path)).base_url == "http://127.0.0.1:9" and started == []
    eager.connect(Settings(home=tmp_path))
    assert started == [tmp_path]


@pytest.mark.usefixtures("scratch_registry")
def test_a_new_target_is_one_registration(tmp_path: Path) -> None:
    port = closed_port()
    made: list[str] = []

    def credential() -> TokenCredential:
        made.append("credential")
        return CountingCredential()

    registry.register(
        Target(
            name="edge",
            description="a test target",
            capabilities=Capabilities(scoring_scope="api://edge/.default"),
            address=lambda settings: Address(
                f"http://127.0.0.1:{port}", "/edge/ws", credential, "api://edge/.default"
            ),
            unreachable=Unreachable(
                ServiceUnreachableError, "The edge box at {base_url} is off ({error}).", "Power it on."
            ),
        )
    )
    settings = resolve({"target": "Edge"}, environ={}, cwd=tmp_path)
    assert settings.target == "edge" and settings.workspace_path is None
    assert [row[0] for row in settings.describe()] == ["target", "home", "api_version"]

    with RestClient.from_settings(settings, retry=ONE_TRY) as client:
        assert client.target == "edge" and client.target_info.name == "edge"
        assert client.base_url == f"http://127.0.0.1:{port}" and client.paths.workspace == "/edge/ws"
        assert client.capabilities.scoring_scope == "api://edge/.default" and made == ["credential"]
        assert client.tokens.scope == "api://edge/.default"
        assert client.capabilities.metrics_delay == 0.0
        with pytest.raises(
            ServiceUnreachableError, match=r"The edge box at http://127\.0\.0\.1:\d+ is off"
        ) as caught:
            client.get(client.paths.endpoints())
        assert caught.value.hint == "Power it on."

    given = StaticTokenCredential("g" * 32)
    with RestClient.from_settings(settings, credential=given) as client:
        assert client.tokens.credential is given and made == ["credential"], "a given credential wins"


def test_clients_word_unreachable_targets_their_own_way() -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    for name, error, text in (
        ("local", WorkspaceUnavailableError, "does not answer"),
        ("azure", ServiceUnreachableError, "did not answer"),
    ):
        with (
            RestClient(
                url,
                StaticTokenCredential("x" * 32),
                workspace_path="/ws",
                api_version="2026-07-01",
                target=name,
                retry=ONE_TRY,
            ) as client,
            pytest.raises(error, match=text) as caught,
        ):
            client.get("/anything")
        assert (name == "local") == isinstance(caught.value, WorkspaceUnavailableError)
        assert client.target == name and client.capabilities is get_target(name).capabilities


def test_a_client_refuses_an_unknown_target() -> None:
    with pytest.raises(SettingsError, match="Unknown target 'moon'"):
        RestClient(
            "http://127.0.0.1:9",
            StaticTokenCredential("x" * 32),
            workspace_path="/ws",
            api_version="2026-07-01",
            target="moon",
        )


# -- %mlep use ------------------------------------------------------------------------------


def test_mlep_use_checks_the_name_against_the_registry(ip: Any) -> None:
    with pytest.raises(UsageError, match="the target is local or azure"):
        ip.run_line_magic("mlep", "use cloud")
    assert ip.run_line_magic("mlep", "use LOCAL --subscription s").target == "local"
    assert ip.run_line_magic("mlep", "status").subscription_id is None, "local reads no Azure settings"


@pytest.mark.usefixtures("scratch_registry")
def test_mlep_use_accepts_a_registered_target(ip: Any) -> None:
    local = get_target("local")
    registry.register(Target("twin", "the local workspace again", local.capabilities, local.address))
    assert ip.run_line_magic("mlep", "use twin").target == "twin"
    with pytest.raises(UsageError, match="the target is local or azure or twin"):
        ip.run_line_magic("mlep", "use triplet")
