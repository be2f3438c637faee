"""The verb registry: a :class:`Verb` per module, a :class:`Group` per magic (``%endpoint``,
``%job``, ``%batch``: one entry each in :data:`GROUPS`), and the verbs of ``%mlep``
(:data:`MLEP`: ``create -f FILE``, ``show``, ``list``, ``delete`` by kind), which the command line
offers at its top level (``jupyter-mlep create -f FILE``).

A verb module declares, once, ``VERB = Verb(name, help, examples, arguments, run)``. The magic's
router, its docstring (``%endpoint?``), ``jupyter-mlep endpoint --help`` and the README's
cheat-sheet are all made from these declarations.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import UsageError

if TYPE_CHECKING:
    from ._context import Context

__all__ = ["GROUPS", "MLEP", "TOP_LEVEL", "Group", "Verb", "group"]


@dataclass(frozen=True)
class Verb:
    """One sub-command.

    ``examples`` are written in magic syntax (``%endpoint …``; the command line shows them as
    ``jupyter-mlep endpoint …``), optionally followed by ``  # a comment``. ``objects`` names the
    options (argparse ``dest``) that accept a notebook object (``--data $payload``).
    """

    name: str
    help: str
    examples: tuple[str, ...]
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Context, argparse.Namespace], Any]
    objects: tuple[str, ...] = ()

    @property
    def example(self) -> str:
        """The first example without its comment (for hints: "Example: %endpoint …")."""
        return self.examples[0].split("  # ", 1)[0]


@dataclass(frozen=True)
class Group:
    """The verbs of one magic. ``tour`` is the cheat-sheet: (verb, example index) pairs in an order
    that runs top to bottom against an empty workspace."""

    name: str
    description: str
    package: str
    verbs: tuple[str, ...]
    tour: tuple[tuple[str, int], ...] = ()
    footer: str = ""
    top_level: bool = False
    """Its verbs are commands of ``jupyter-mlep`` itself (``jupyter-mlep create``), not of
    ``jupyter-mlep <group>``."""
    cell_verb: str | None = None
    """The verb a cell magic runs (``%%job NAME …`` is ``%job run NAME …`` with the cell as its script)."""
    promoted: tuple[str, ...] = ()
    """Verbs also offered as commands of ``jupyter-mlep`` itself (``jupyter-mlep migrate-v1``)."""
    _cache: dict[str, Verb] = field(default_factory=dict, compare=False, repr=False)

    @property
    def magic(self) -> str:
        """``%endpoint``."""
        return f"%{self.name}"

    @property
    def command(self) -> str:
        """``jupyter-mlep endpoint`` (``jupyter-mlep`` for a top-level group)."""
        return "jupyter-mlep" if self.top_level else f"jupyter-mlep {self.name}"

    def verb(self, name: str) -> Verb:
        """The verb ``name`` (its module is imported on first use)."""
        if name not in self.verbs:
            raise UsageError(f"{self.magic} has no verb {name!r}.", hint="Verbs: " + ", ".join(self.verbs))
        if name not in self._cache:
            module = importlib.import_module(f"{self.package}.{name.replace('-', '_')}")
            verb: Verb = module.VERB
            self._cache[name] = verb
        return self._cache[name]

    @property
    def commands(self) -> tuple[str, ...]:
        """The verbs that are commands of ``jupyter-mlep`` itself: all of a top-level group's, else
        the promoted ones."""
        return self.verbs if self.top_level else self.promoted

    def all(self) -> list[Verb]:
        """Every verb, in the registry's order."""
        return [self.verb(name) for name in self.verbs]


ENDPOINT = Group(
    name="endpoint",
    description="Online endpoints: the verbs of az ml online-endpoint and az ml online-deployment.",
    package="jupyter_mlep.verbs.endpoint",
    verbs=(
        "create",
        "deploy",
        "invoke",
        "swagger",
        "snippet",
        "profile",
        "logs",
        "metrics",
        "traffic",
        "rollout",
        "show",
        "list",
        "keys",
        "token",
        "update",
        "scale",
        "delete",
        "migrate-v1",
    ),
    tour=(
        ("deploy", 0),
        ("invoke", 0),
        ("swagger", 0),
        ("snippet", 0),
        ("profile", 0),
        ("deploy", 1),
        ("invoke", 1),
        ("update", 0),
        ("traffic", 1),
        ("traffic", 0),
        ("logs", 0),
        ("metrics", 0),
        ("keys", 0),
        ("scale", 0),
        ("show", 0),
        ("list", 0),
        ("traffic", 2),
        ("delete", 0),
        ("delete", 1),
        ("create", 0),
        ("token", 0),
        ("delete", 2),
    ),
    footer="Every verb takes --local (the local workspace whatever the current target) and -h.",
    promoted=("migrate-v1",),
)

MLEP = Group(
    name="mlep",
    description="Any Azure ML CLI v2 YAML file, and what it made: the create, show, list and delete of "
    "az ml model|environment|data|code|compute|datastore|online-endpoint|online-deployment.",
    package="jupyter_mlep.verbs.mlep",
    verbs=("create", "show", "list", "delete"),
    tour=(
        ("create", 0),
        ("create", 1),
        ("create", 2),
        ("create", 3),
        ("show", 0),
        ("list", 0),
        ("list", 1),
        ("delete", 0),
        ("delete", 1),
    ),
    footer="Kinds: model, environment, data, code, compute, online-endpoint, online-deployment, datastore, "
    "job, batch-endpoint, batch-deployment. Every verb takes --local (the local workspace whatever the current target) and -h.",
    top_level=True,
)

JOB = Group(
    name="job",
    description="Training jobs: the verbs of az ml job, and %%job to run a cell as a command job.",
    package="jupyter_mlep.verbs.job",
    verbs=(
        "run",
        "create",
        "show",
        "list",
        "stream",
        "logs",
        "metrics",
        "download",
        "register-model",
        "cancel",
    ),
    # after a `%%job train … --output-name model` cell (see run's first example)
    tour=(
        ("show", 0),
        ("stream", 0),
        ("logs", 0),
        ("metrics", 0),
        ("download", 0),
        ("register-model", 0),
        ("create", 0),
        ("list", 0),
        ("list", 1),
        ("cancel", 0),
    ),
    footer="Every verb takes --local (the local workspace whatever the current target) and -h.",
    cell_verb="run",
)

BATCH = Group(
    name="batch",
    description="Batch endpoints: the verbs of az ml batch-endpoint and az ml batch-deployment, to score "
    "folders of files in parallel with init()/run(mini_batch).",
    package="jupyter_mlep.verbs.batch",
    verbs=("create", "deploy", "dry-run", "invoke", "jobs", "show", "list", "delete"),
    tour=(
        ("create", 1),
        ("dry-run", 1),
        ("deploy", 0),
        ("dry-run", 0),
        ("invoke", 0),
        ("deploy", 1),
        ("invoke", 1),
        ("jobs", 0),
        ("show", 0),
        ("list", 0),
        ("delete", 0),
        ("delete", 1),
    ),
    footer="Every verb takes --local (the local workspace whatever the current target) and -h.",
)

GROUPS: dict[str, Group] = {ENDPOINT.name: ENDPOINT, JOB.name: JOB, BATCH.name: BATCH}
"""Every verb group that is a magic of its own, by magic name."""

TOP_LEVEL: dict[str, Group] = {MLEP.name: MLEP}
"""Verb groups of the ``%mlep`` magic (next to its ``status`` and ``use``), whose verbs are
top-level commands of ``jupyter-mlep``."""


def group(name: str) -> Group:
    """The verb group of the magic ``name`` (``"endpoint"``, ``"mlep"``)."""
    return GROUPS[name] if name in GROUPS else TOP_LEVEL[name]
