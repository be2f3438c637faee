"""The checks an asset version's properties pass before they are stored (400 ``UserError`` naming the
field otherwise): an environment's image or build, conda file and routes, code and model URIs, and
a data version's type and ``dataUri``.

A data version needs ``dataType`` (``uri_file``, ``uri_folder`` or ``mltable``, any case; stored in
the spec's case) and ``dataUri``: a datastore URI (``azureml://datastores/<name>/paths/…``, or the
long form ``azureml://subscriptions/…/workspaces/…/datastores/<name>/paths/…``) naming a datastore
of this workspace, or an ``https``/``wasbs`` URL, stored as given. A ``condaFile`` sent with an
environment version must parse and name valid requirements (400 naming the line otherwise).
"""

from __future__ import annotations

from typing import Any

import yaml

from .._errors import SpecValidationError
from ..specs._conda import check_conda, load_conda_text
from ..specs._data import DATA_TYPES, DATA_URL_SCHEMES, datastore_of
from .arm import bad_request
from .context import Workspace
from .validation import canonical

__all__ = ["check_data_uri", "check_version_props"]

_ENV_REQUIRED_ROUTE_FIELDS = ("path", "port")


def check_version_props(family: str, props: dict[str, Any], label: str = "") -> None:
    if family == "environments":
        if not props.get("image") and not props.get("build"):
            raise bad_request("An environment needs 'image' or 'build'.", target="properties.image")
        build = props.get("build")
        if build is not None and (not isinstance(build, dict) or not build.get("contextUri")):
            raise bad_request(
                "'properties.build.contextUri' is required.", target="properties.build.contextUri"
            )
        if props.get("condaFile") is not None and not isinstance(props["condaFile"], str):
            raise bad_request(
                "'properties.condaFile' must be the conda YAML as a string.", target="properties.condaFile"
            )
        if isinstance(props.get("condaFile"), str):
            _check_conda_text(props["condaFile"], label)
        config = props.get("inferenceConfig")
        if config is not None:
            for route in ("livenessRoute", "readinessRoute", "scoringRoute"):
                value = config.get(route) if isinstance(config, dict) else None
                if value is not None and any(value.get(f) is None for f in _ENV_REQUIRED_ROUTE_FIELDS):
                    raise bad_request(
                        f"'properties.inferenceConfig.{route}' needs path and port.",
                        target=f"properties.inferenceConfig.{route}",
                    )
        os_type = canonical(props.get("osType"), ("Linux", "Windows"), "properties.osType")
        if os_type is not None:
            props["osType"] = os_type
    if family == "codes" and props.get("codeUri") is not None and not isinstance(props["codeUri"], str):
        raise bad_request("'properties.codeUri' must be a string.", target="properties.codeUri")
    if family == "models" and props.get("modelUri") is not None and not isinstance(props["modelUri"], str):
        raise bad_request("'properties.modelUri' must be a string.", target="properties.modelUri")
    if family == "data":
        props["dataType"] = canonical(props.get("dataType"), DATA_TYPES, "properties.dataType", required=True)


def check_data_uri(ws: Workspace, props: dict[str, Any]) -> None:
    """400 unless ``dataUri`` is a datastore URI of an existing datastore, or an https/wasbs URL."""
    uri = props.get("dataUri")
    if not isinstance(uri, str) or not uri.strip():
        raise bad_request(
            "The field 'properties.dataUri' is required: a datastore URI "
            "(azureml://datastores/<name>/paths/<path>) or an https or wasbs URL.",
            target="properties.dataUri",
        )
    datastore = datastore_of(uri)
    if datastore is not None:
        if ws.store.get(f"datastores/{datastore}") is None:
            raise bad_request(
                f"The datastore '{datastore}' of dataUri {uri!r} does not exist in this workspace. "
                "Create it first, or use workspaceblobstore.",
                target="properties.dataUri",
            )
        return
    scheme = uri.partition("://")[0].lower() if "://" in uri else ""
    if scheme not in DATA_URL_SCHEMES:
        raise bad_request(
            f"Unsupported dataUri {uri!r}: give azureml://datastores/<name>/paths/<path>, "
            "or an https:// or wasbs:// URL.",
            target="properties.dataUri",
        )


def _check_conda_text(text: str, label: str) -> None:
    """400 for a condaFile that is not YAML (naming the line) or whose dependencies are malformed.

    A text that is YAML but no mapping (the service's own examples send ``"string"``) is stored;
    a deployment that uses it is refused when it is submitted.
    """
    where = f"of environment {label} (properties.condaFile)" if label else "properties.condaFile"
    try:
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = load_conda_text(text, where)  # raises, naming the line
        if isinstance(parsed, dict):
            check_conda(parsed, where, text=text)
    except SpecValidationError as exc:
        raise bad_request(exc.message, target="properties.condaFile") from None
