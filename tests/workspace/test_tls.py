"""HTTPS on loopback: a workspace started with TLS answers over https to clients trusting its own
certificate authority, refuses plain-http clients and clients that do not trust it, hands out https
URLs, keeps its private keys private and reuses its certificates across restarts; the project's
own clients (REST, blob uploads, scoring) deploy and invoke through it."""

from __future__ import annotations

import contextlib
import io
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from support.arm import Arm
from support.clients import deployed_sample
from support.samples import EXPECTED_MODEL_1, close_to
from support.workspace import process_workspace, running_workspace

from jupyter_mlep import SettingsError, WorkspaceStartError
from jupyter_mlep import operations as ops
from jupyter_mlep.cli import main as cli_main
from jupyter_mlep.rest import RestClient
from jupyter_mlep.settings import resolve
from jupyter_mlep.workspace import WorkspaceInfo, control
from jupyter_mlep.workspace.tls import TlsFiles, ensure_certificates, tls_requested


@pytest.fixture(scope="module")
def tls_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls-home")


@pytest.fixture(scope="module")
def tls_workspace(tls_home: Path, env_cache: Path) -> Iterator[WorkspaceInfo]:
    """A workspace of its own serving HTTPS (deployments as local processes)."""
    with process_workspace(tls_home, env_cache, tls=True) as info:
        yield info


def _context(info: WorkspaceInfo) -> ssl.SSLContext:
    assert info.ca_file is not None
    return ssl.create_default_context(cafile=str(info.ca_file))


def test_tls_workspace_answers_https_and_hands_out_https_urls(tls_workspace: WorkspaceInfo) -> None:
    assert tls_workspace.base_url == f"https://127.0.0.1:{tls_workspace.port}"
    assert tls_workspace.tls and tls_workspace.ca_file == TlsFiles.under(tls_workspace.home).ca_cert
    with Arm(tls_workspace) as arm:
        resource = arm.get("").json()["properties"]
        assert resource["discoveryUrl"].startswith(f"{tls_workspace.base_url}/discovery")
        assert resource["mlFlowTrackingUri"].startswith("https://127.0.0.1:")
        store = arm.get("/datastores/workspaceblobstore").json()["properties"]
        assert (store["protocol"], store["endpoint"]) == ("https", f"127.0.0.1:{tls_workspace.port}")
        assert store["properties"]["mlep.blobEndpoint"] == f"{tls_workspace.base_url}/mlepstore"
        pending = arm.post("/codes/tls-code/versions/1/startPendingUpload", {}).json()
        reference = pending["blobReferenceForConsumption"]
        assert reference["blobUri"].startswith(f"{tls_workspace.base_url}/mlepstore/")
        assert reference["credential"]["sasUri"].startswith(f"{tls_workspace.base_url}/mlepstore/")
        sas_upload = httpx.put(
            reference["credential"]["sasUri"].replace("?", "/score.py?", 1),
            content=b"def init(): pass\n",
            headers={"x-ms-blob-type": "BlockBlob"},
            verify=_context(tls_workspace),
        )
        assert sas_upload.status_code == 201
    # the certificate names localhost too
    url = f"https://localhost:{tls_workspace.port}/mlep/v1/info"
    headers = {"Authorization": f"Bearer {tls_workspace.token}"}
    answer = httpx.get(url, headers=headers, verify=_context(tls_workspace))
    assert answer.json()["baseUrl"] == tls_workspace.base_url


def test_tls_workspace_refuses_plain_http_and_untrusting_clients(tls_workspace: WorkspaceInfo) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls_workspace.port}/mlep/v1/info", timeout=5)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_workspace.base_url}/mlep/v1/info", timeout=5)  # the system's authorities only


def test_tls_files_are_private_and_the_certificate_names_loopback(tls_workspace: WorkspaceInfo) -> None:
    files = TlsFiles.under(tls_workspace.home)
    assert stat.S_IMODE(files.folder.stat().st_mode) == 0o700
    for key in (files.ca_key, files.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cert.verify_directly_issued_by(ca)


def test_tls_certificates_are_reused_across_restarts_and_the_protocol_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    files = TlsFiles.under(home)
    with running_workspace(home, tls=True) as first:
        assert first.base_url.startswith("https://")
        issued = files.ca_cert.read_bytes(), files.server_cert.read_bytes(), files.server_key.read_bytes()
        with pytest.raises(WorkspaceStartError, match="already runs with HTTPS"):
            control.start(home, tls=False)
        monkeypatch.setenv("MLEP_WORKSPACE_TLS", "0")
        with pytest.raises(WorkspaceStartError, match="not HTTP"):
            control.ensure_running(home)
        monkeypatch.setenv("MLEP_WORKSPACE_TLS", "1")
        assert control.ensure_running(home) == first
    monkeypatch.setenv("MLEP_WORKSPACE_TLS", "yes")
    with running_workspace(home) as second:  # MLEP_WORKSPACE_TLS: the start without a flag
        assert second.base_url.startswith("https://") and second.pid != first.pid
        assert (
            files.ca_cert.read_bytes(),
            files.server_cert.read_bytes(),
            files.server_key.read_bytes(),
        ) == issued
        with httpx.Client(verify=_context(second)) as http:
            assert http.get(
                f"{second.base_url}/mlep/v1/info", headers={"Authorization": f"Bearer {second.token}"}
            )
    monkeypatch.delenv("MLEP_WORKSPACE_TLS")
    with running_workspace(home) as plain:
        assert plain.base_url.startswith("http://") and plain.ca_file is None


def test_tls_server_certificate_is_issued_again_when_due(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    files = ensure_certificates(tmp_path)
    ca, server = files.ca_cert.read_bytes(), files.server_cert.read_bytes()
    assert ensure_certificates(tmp_path).server_cert.read_bytes() == server
    later = datetime.now(timezone.utc) + timedelta(days=380)  # within 30 days of the server's expiry
    ensure_certificates(tmp_path, now=later)
    assert files.ca_cert.read_bytes() == ca and files.server_cert.read_bytes() != server


def test_tls_setting_values(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tls_requested({}) is None
    assert tls_requested({"MLEP_WORKSPACE_TLS": "On"}) is True
    assert tls_requested({"MLEP_WORKSPACE_TLS": "false"}) is False
    with pytest.raises(SettingsError, match="MLEP_WORKSPACE_TLS") as caught:
        tls_requested({"MLEP_WORKSPACE_TLS": "maybe"})
    assert caught.value.hint and "MLEP_WORKSPACE_TLS=1" in caught.value.hint


def test_tls_cli_status_and_sdk_env(tls_workspace: WorkspaceInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLEP_HOME", str(tls_workspace.home))
    for action, expected in (
        ("status", f"certificate authority: {tls_workspace.ca_file}"),
        ("sdk-env", f"export AZUREML_DEV_URL_MFE={tls_workspace.base_url}"),
    ):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli_main(["workspace", action]) == 0
        assert expected in out.getvalue()
        assert tls_workspace.token not in out.getvalue()
    assert f"export REQUESTS_CA_BUNDLE={tls_workspace.ca_file}" in out.getvalue()
    assert f"export SSL_CERT_FILE={tls_workspace.ca_file}" in out.getvalue()
    assert "export AZUREML_WORKSPACE_NAME=local" in out.getvalue()


def test_tls_own_client_deploys_and_invokes(
    tls_workspace: WorkspaceInfo, tmp_path: Path, azureml_examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLEP_HOME", str(tls_workspace.home))
    monkeypatch.setenv("MLEP_WORKSPACE_TLS", "1")
    with deployed_sample(tls_workspace, tmp_path, azureml_examples, "tls-ep", green=False) as sample:
        assert sample.blue.deployment.provisioning_state == "Succeeded"
        assert any(
            asset.uploaded_bytes > 0 for asset in sample.blue.assets
        )  # over https, through the blob client
        with RestClient.from_settings(resolve()) as client:  # the local target: trusts the authority
            assert client.base_url.startswith("https://")
            endpoint = client.get(client.paths.endpoint("tls-ep"))
            assert endpoint["properties"]["scoringUri"] == f"{tls_workspace.base_url}/endpoints/tls-ep/score"
            answer = ops.invoke(client, "tls-ep", sample.tree.payload())
            assert close_to(answer.body, EXPECTED_MODEL_1)
            assert answer.deployment == "blue"
