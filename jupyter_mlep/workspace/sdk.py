"""The environment the official Azure ML SDK (``azure-ai-ml``) needs to use the local workspace.

``jupyter-mlep workspace sdk-env`` prints it as shell ``export`` lines: the management URL the SDK
takes instead of Azure Resource Manager's (``AZUREML_DEV_URL_MFE``), the certificate authority its
HTTP stack trusts (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``), the workspace's names, and where
the admin token is (the SDK needs a token credential returning it; the token is never printed).
"""

from __future__ import annotations

import shlex

from ._identity import RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME
from ._paths import WorkspacePaths
from .control import WorkspaceInfo

__all__ = ["TOKEN_FILE_ENV", "sdk_environment", "sdk_variables"]

TOKEN_FILE_ENV = "MLEP_ADMIN_TOKEN_FILE"
"""The variable naming the admin token's file (for a credential class that reads it)."""


def sdk_variables(info: WorkspaceInfo) -> dict[str, str]:
    """The environment variables of an SDK client of the workspace ``info``."""
    variables = {"AZUREML_DEV_URL_MFE": info.base_url}
    if info.ca_file is not None:
        variables["REQUESTS_CA_BUNDLE"] = str(info.ca_file)
        variables["SSL_CERT_FILE"] = str(info.ca_file)
    variables.update(
        {
            "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION_ID,
            "AZURE_RESOURCE_GROUP": RESOURCE_GROUP,
            "AZUREML_WORKSPACE_NAME": WORKSPACE_NAME,
            TOKEN_FILE_ENV: str(WorkspacePaths.under(info.home).token),
        }
    )
    return variables


def sdk_environment(info: WorkspaceInfo) -> str:
    """Shell lines setting :func:`sdk_variables`, with comments saying how to connect."""
    lines = [f"# Azure ML SDK (azure-ai-ml) against the local workspace at {info.base_url}"]
    if info.ca_file is None:
        lines.append(
            "# The SDK sends tokens only over HTTPS: restart the workspace with "
            "'jupyter-mlep workspace start --tls' (or MLEP_WORKSPACE_TLS=1)."
        )
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sdk_variables(info).items()]
    lines += [
        f"# Credential: the admin token ({info.token_hint}) in ${TOKEN_FILE_ENV}, e.g.",
        "#   class LocalToken:",
        "#       def get_token(self, *scopes, **kwargs):",
        f"#           token = Path(os.environ['{TOKEN_FILE_ENV}']).read_text().strip()",
        "#           return azure.core.credentials.AccessToken(token, int(time.time()) + 3600)",
        "#   MLClient(LocalToken(), os.environ['AZURE_SUBSCRIPTION_ID'],",
        "#            os.environ['AZURE_RESOURCE_GROUP'], os.environ['AZUREML_WORKSPACE_NAME'])",
    ]
    return "\n".join(lines)
