"""Curated environments (``AzureML-<name>``) as the local workspace serves them: read-only records
built from the curated table (:mod:`jupyter_mlep.specs._curated`), any version, with a
``condaFile`` listing their packages, as in an Azure workspace; other ``AzureML-`` names are 404
(the message lists the known ones), and the prefix is reserved.
"""

from __future__ import annotations

import yaml

from ..specs._curated import CURATED_PREFIX, curated_conda, curated_environment, known_curated_text
from .arm import ArmError, now_iso
from .store import Record

__all__ = ["curated_record", "is_curated"]

_CURATED_VERSION = "1"


def is_curated(name: str) -> bool:
    return name.lower().startswith(CURATED_PREFIX.lower())


def curated_record(name: str, version: str | None) -> Record:
    """A curated environment (``AzureML-<name>``) as a read-only record: the version asked for,
    or the container when ``version`` is None; 404 naming the known ones for an unknown name."""
    entry = curated_environment(name[len(CURATED_PREFIX) :])
    if entry is None:
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The curated environment '{name}' is not known to the local workspace. Known: "
            + ", ".join(f"{CURATED_PREFIX}{known}" for known in known_curated_text().split(", "))
            + ". Use one of those, or give an environment with a conda file (image + conda_file).",
        )
    stamp = now_iso()
    base = {"description": entry.description, "tags": {"curated": "true"}, "properties": {}}
    if version is None:
        path, kind, body = f"environments/{name}", "environmentContainer", {**base, "isArchived": False}
        body["latestVersion"] = _CURATED_VERSION
        body["nextVersion"] = None
    else:
        path, kind = f"environments/{name}/versions/{version}", "environmentVersion"
        body = {
            **base,
            "image": f"mcr.microsoft.com/azureml/curated/{entry.name}:latest",
            "condaFile": yaml.safe_dump(curated_conda(entry), sort_keys=False),
            "environmentType": "Curated",
            "osType": "Linux",
            "autoRebuild": "Disabled",
            "isAnonymous": False,
            "isArchived": False,
        }
    body["provisioningState"] = "Succeeded"
    return Record(path, kind, "", version or name, path, {"properties": body}, stamp, stamp)
