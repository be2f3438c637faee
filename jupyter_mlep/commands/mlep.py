"""``jupyter-mlep create -f FILE``, ``show``, ``list``, ``delete``: the workspace verbs of ``%mlep``
as top-level commands (same arguments, defined once in :mod:`jupyter_mlep.verbs.mlep`).

Results go to stdout as a table (default) or JSON (``--output json``); progress goes to stderr.
"""

from __future__ import annotations

import argparse

from ..verbs import MLEP, Context
from .endpoint import _say, _settings, render


def run(args: argparse.Namespace) -> int:
    """Run the verb named by ``args.command`` and print its result."""
    ctx = Context(settings=_settings, say=_say, magic=False, cell=None)
    text = render(MLEP.verb(args.command).run(ctx, args), args.output)
    if text:
        print(text)
    return 0
