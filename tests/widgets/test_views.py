"""A result that a widget already shows is not drawn again in the same cell, but is later."""

from __future__ import annotations

from typing import Any

from IPython.utils.capture import capture_output

from jupyter_mlep.operations import TrafficResult
from jupyter_mlep.widgets._views import shown_once


def test_a_result_shown_by_a_widget_is_drawn_only_after_its_cell(ip: Any) -> None:
    ip.user_ns["make"] = lambda: shown_once(TrafficResult("ep-1", {"blue": 100}))
    with capture_output() as same_cell:
        ip.run_cell("r = make()\nr")
    with capture_output() as later_cell:
        ip.run_cell("r")
    assert "Traffic of ep-1" not in same_cell.stdout
    assert "Traffic of ep-1" in later_cell.stdout
    assert ip.user_ns["r"].traffic == {"blue": 100}
