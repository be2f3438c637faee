"""What cannot work, measured: the SDK uploads a local model or data folder to
``https://<account>.blob.<storage suffix>`` (the suffix from its cloud metadata) and ignores the
datastore's endpoint and protocol, which name the local workspace. A custom cloud changes only the
suffix: the account stays in the host name, which the storage client then cannot even parse when
the suffix names this machine. (The SDK's code uploads work: they use the SAS URL of
``startPendingUpload``, see test_online_endpoints.) The way that works, an upload to the datastore
path and a registration by URI, is what the other scripts of this suite do."""

from __future__ import annotations

import json
from pathlib import Path

from support.sdk import run_sdk_script

from jupyter_mlep.workspace import WorkspaceInfo


def test_local_folder_uploads_cannot_reach_the_workspace(
    workspace: WorkspaceInfo, sdk_interpreter: Path
) -> None:
    run = run_sdk_script(workspace, "upload_targets.py", {})
    assert run.status == 0, run.explain()
    line = next(line for line in run.output.splitlines() if line.startswith('{"upload_targets"'))
    targets = json.loads(line)["upload_targets"]
    address = workspace.base_url.removeprefix("https://")
    assert targets["datastore"] == {"endpoint": address, "protocol": "https"}
    assert targets["default_cloud"]["account_url"] == "https://mlepstore.blob.core.windows.net"
    custom = targets["custom_cloud"]
    assert custom["account_url"] == f"https://mlepstore.blob.localhost:{workspace.port}"
    assert custom["storage_client"].startswith("ValueError: Unable to determine account name")
