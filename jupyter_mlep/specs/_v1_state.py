"""The state of one v1 → v2 conversion (:mod:`._v1`) that the field rules of
:mod:`._v1_inference` and :mod:`._v1_deployment` fill in, and the helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["CPU_IMAGE", "GPU_IMAGE", "EndpointKind", "Rule", "State", "V1Conversion", "carried_to", "dropped"]

CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"

EndpointKind = Literal["managed", "kubernetes"]


@dataclass
class V1Conversion:
    """The v2 mappings made from a v1 configuration, and the fate of every v1 field."""

    endpoint: dict[str, Any]
    deployment: dict[str, Any]
    conda: dict[str, Any] | None = None
    """A conda file to write beside deployment.yml (``conda.yaml``), when the v1 one was inline or changed."""
    carried: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    entry_script: Path | None = None


@dataclass
class State:
    """What the rules read (where paths are, the kind of endpoint) and what they gather."""

    out: V1Conversion
    source: Path
    """The folder of inferenceconfig.json."""
    code: Path
    """Its sourceDirectory (the entry script and, when it is there, the conda file are relative to it)."""
    kind: EndpointKind
    relative: Callable[[Path], str]
    resources: dict[str, float] = field(default_factory=dict)
    gpu: bool = False

    def carry(self, v1: str, v2: str) -> None:
        self.out.carried[v1] = v2

    def drop(self, v1: str, why: str) -> None:
        self.out.dropped[v1] = why


Rule = Callable[[Any, str, State], None]
"""A field rule: ``rule(value, "file.field", state)`` carries the value or drops it (with the reason)."""


def carried_to(mapping: Literal["endpoint", "deployment"], path: str) -> Rule:
    """The rule that carries a value as is to ``path`` (dotted) of the endpoint or deployment."""

    def rule(value: Any, where: str, state: State) -> None:
        target = state.out.endpoint if mapping == "endpoint" else state.out.deployment
        *parents, last = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = str(value)
        state.carry(where, f"{mapping}.{path}")

    return rule


def dropped(why: str) -> Callable[[Any, str, State], None]:
    def rule(value: Any, where: str, state: State) -> None:
        state.drop(where, why)

    return rule
