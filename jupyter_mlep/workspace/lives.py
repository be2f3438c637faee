"""Named lives in the background: one asyncio task per job or sweep, each with its cancel event."""

from __future__ import annotations

import asyncio

__all__ = ["Lives"]


class Lives:
    """The running lives of one kind (jobs, sweeps): :meth:`submit` starts ``_life(name)`` as a task,
    which is forgotten when it ends; ``cancels[name]`` is set to ask it to stop."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.cancels: dict[str, asyncio.Event] = {}
        self.stopping = False

    async def _life(self, name: str) -> None:
        raise NotImplementedError

    def submit(self, name: str) -> None:
        """Start (or resume) the life of ``name`` in the background."""
        self.cancels[name] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._life(name))
        self.tasks[name] = task
        task.add_done_callback(lambda _: self._forget(name, task))

    def _forget(self, name: str, task: asyncio.Task[None]) -> None:
        if self.tasks.get(name) is task:
            self.tasks.pop(name, None)
            self.cancels.pop(name, None)

    def active(self, name: str) -> bool:
        """True while the life of ``name`` runs."""
        return name in self.tasks
