"""``migrate_v1``: an Azure ML v1 ``inferenceconfig.json`` + ``deploymentconfig.json`` pair → v2
``endpoint.yml`` + ``deployment.yml`` (and ``conda.yaml`` when the environment was inline or held
v1 SDK packages) in a folder, with every v1 setting listed as carried or dropped (and why).

Nothing is written until both files were read, converted and the YAML validated as the service
would; existing files are never overwritten unless asked. The entry script is checked as
``%%score_script`` checks it, so v1-only APIs in it (``Model.get_model_path``…) are listed too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .._errors import ScoreScriptError, SpecError
from ..rendering import Result, text_table

__all__ = ["V1Migration", "migrate_v1"]


@dataclass
class V1Migration(Result):
    """What ``migrate-v1`` wrote, carried and dropped."""

    kind: ClassVar[str] = "migrate-v1"
    endpoint: str
    files: list[Path]
    carried: dict[str, str]
    dropped: dict[str, str]
    script_notes: list[str] = field(default_factory=list)
    to_do: list[str] = field(default_factory=list)
    """What to do before the files deploy (the model was not given…)."""

    def text(self) -> str:
        endpoint_yml, deployment_yml = self.files[0], self.files[1]
        lines = ["Wrote " + ", ".join(str(f) for f in self.files) + "."]
        lines += ["", f"Carried over ({len(self.carried)}):"]
        lines.append(text_table(("v1 setting", "v2 field"), sorted(self.carried.items())))
        lines += ["", f"Not carried over ({len(self.dropped)}):"]
        lines.append(text_table(("v1 setting", "why"), sorted(self.dropped.items())))
        if self.script_notes:
            lines += ["", "The entry script:"] + [f"  {note}" for note in self.script_notes]
        if self.to_do:
            lines += ["", "Before deploying:"] + [f"  {item}" for item in self.to_do]
        lines += [
            "",
            "Next: %endpoint create -f " + str(endpoint_yml),
            "      %endpoint deploy -f " + str(deployment_yml) + " --all-traffic",
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "files": [str(f) for f in self.files],
            "carried": dict(sorted(self.carried.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "script_notes": list(self.script_notes),
            "to_do": list(self.to_do),
        }


def migrate_v1(
    inference_config: str | Path,
    deployment_config: str | Path,
    *,
    endpoint: str,
    out: str | Path,
    model: str | None = None,
    deployment: str = "blue",
    to: str | None = None,
    compute: str | None = None,
    instance_type: str | None = None,
    overwrite: bool = False,
) -> V1Migration:
    """Convert the v1 pair into v2 YAML files in ``out`` (see the module docstring)."""
    import yaml

    from ..specs import convert_v1, spec_from_dict, validate_name

    validate_name(endpoint, "endpoint")
    if to not in (None, "managed", "kubernetes"):
        raise SpecError(f"--to must be managed or kubernetes, not {to!r}.")
    inference_path, deployment_path = Path(inference_config), Path(deployment_config)
    inference, dep = _read_json(inference_path), _read_json(deployment_path)
    out = Path(out)
    conversion = convert_v1(
        inference,
        dep,
        endpoint=endpoint,
        source=inference_path.parent,
        out=out,
        model=model,
        name=deployment,
        to=to,  # type: ignore[arg-type]
        compute=compute,
        instance_type=instance_type,
    )
    contents = {
        out / "endpoint.yml": conversion.endpoint,
        out / "deployment.yml": conversion.deployment,
    }
    if conversion.conda is not None:
        contents[out / "conda.yaml"] = conversion.conda
    for data in (conversion.endpoint, conversion.deployment):  # the service's rules, before writing
        spec_from_dict(data, base_dir=out).check(complete=False)
    existing = [path for path in contents if path.exists()]
    if existing and not overwrite:
        raise SpecError(
            f"{', '.join(str(p) for p in existing)} already exist{'s' if len(existing) == 1 else ''}.",
            hint="Choose another --out folder, or pass --overwrite.",
        )
    notes = _script_notes(out, conversion.deployment)
    out.mkdir(parents=True, exist_ok=True)
    for path, data in contents.items():
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    to_do = []
    if "model" not in conversion.deployment:
        to_do.append(
            "add model: to deployment.yml (the model the v1 service served, az ml model deploy -m): "
            "or run again with --model NAME:VERSION or --model PATH"
        )
    if "compute" in conversion.endpoint:
        to_do.append(
            f"the Kubernetes compute {conversion.endpoint['compute']} must be attached to the workspace"
        )
    return V1Migration(endpoint, list(contents), conversion.carried, conversion.dropped, notes, to_do)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise SpecError(f"Cannot read {path}: {exc.strerror}.", hint="Check the path.") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path} must hold a JSON object (the v1 configuration).")
    return data


def _script_notes(out: Path, deployment: dict[str, Any]) -> list[str]:
    """The entry script's check: v1-only APIs and other findings, or why it could not be checked."""
    from ..scoring import check_score_script

    code = deployment.get("code_configuration")
    if not code:
        return ["no entryScript: the deployment needs code_configuration unless the model is MLflow"]
    script = Path(os.path.normpath(out.absolute() / code["code"] / code["scoring_script"]))
    if not script.is_file():
        return [f"{script} does not exist yet: write it before deploying"]
    try:
        checked = check_score_script(script)
    except ScoreScriptError as exc:
        return [str(exc)]
    return [f"{f.level}: {f}" for f in checked.findings] or ["passes the inference server's checks"]
