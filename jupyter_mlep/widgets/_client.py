"""How a widget gets its REST client, the same way in every widget: borrowed, or made and closed.

A widget takes a :data:`ClientSource`: a :class:`~jupyter_mlep.rest.RestClient` (borrowed: the
caller closes it) or a factory (the widget makes the client on first use and closes it when it is
done with it). :class:`ClientHolder` keeps that rule in one place. No ipywidgets here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..rest import RestClient

__all__ = ["ClientHolder", "ClientSource"]

ClientSource = RestClient | Callable[[], RestClient]
"""A REST client (borrowed: the caller closes it) or a factory (the widget closes what it made)."""


class ClientHolder:
    """The client of one widget: :attr:`client` makes it from a factory on first use (thread-safe);
    :meth:`close` closes it only when it was made here, and the next use makes a new one."""

    def __init__(self, source: ClientSource) -> None:
        self.source = source
        self._made: RestClient | None = None
        self._lock = threading.Lock()

    @property
    def owned(self) -> bool:
        """Whether the client is made (and closed) by the widget."""
        return not isinstance(self.source, RestClient)

    @property
    def client(self) -> RestClient:
        """The borrowed client, or the one made from the factory (made now if needed)."""
        if isinstance(self.source, RestClient):
            return self.source
        with self._lock:
            if self._made is None:
                self._made = self.source()
            return self._made

    def close(self) -> None:
        """Close the client made from the factory, if any (a borrowed one stays open)."""
        with self._lock:
            made, self._made = self._made, None
        if made is not None:
            made.close()
