"""Every widget gets its client one way: borrowed (left open) or made from a factory (closed)."""

from __future__ import annotations

import ast
from pathlib import Path

from jupyter_mlep.rest import RestClient, StaticTokenCredential
from jupyter_mlep.widgets._client import ClientHolder

WIDGETS = Path(__file__).parents[2] / "jupyter_mlep" / "widgets"


def _client() -> RestClient:
    return RestClient(
        "http://127.0.0.1:9", StaticTokenCredential("t"), workspace_path="/ws", api_version="2023-04-01"
    )


def test_a_borrowed_client_stays_open() -> None:
    client = _client()
    holder = ClientHolder(client)
    assert holder.client is client and not holder.owned
    holder.close()
    assert not client.http.is_closed
    client.close()


def test_a_made_client_is_made_once_and_closed() -> None:
    made: list[RestClient] = []

    def factory() -> RestClient:
        made.append(_client())
        return made[-1]

    holder = ClientHolder(factory)
    assert holder.owned and made == []  # made on first use
    assert holder.client is holder.client is made[0]
    holder.close()
    assert made[0].http.is_closed
    assert holder.client is made[1]  # used again: a new one
    holder.close()
    assert made[1].http.is_closed and len(made) == 2


def test_the_widgets_use_the_one_helper() -> None:
    for name in ("status.py", "logs.py", "traffic.py", "dashboard.py"):
        source = (WIDGETS / name).read_text(encoding="utf-8")
        assert "ClientHolder(" in source, name
        tree = ast.parse(source)
        assigned = {
            t.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        assert "ClientSource" not in assigned, name  # defined once, in _client.py
