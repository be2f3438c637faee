"""Check and smoke-test Azure ML scoring scripts (``init()`` / ``run()``), without IPython.

- :func:`check_score_script` checks a script offline against the contract of the Azure ML
  inference server and, given a request, runs ``init()`` then ``run(request)`` in a fresh
  process (:func:`smoke_test_score_script`).
- :func:`read_request` resolves a ``--test REQUEST`` argument (a file or literal JSON),
  :func:`resolve_model_dir` a ``--model-dir`` argument.
"""

from __future__ import annotations

from ._api import check_score_script
from ._models import Finding, ScoreScript, ScoreTestResult
from ._request import jsonable, read_request
from ._smoke import DEFAULT_TIMEOUT, resolve_model_dir, smoke_test_score_script

__all__ = [
    "DEFAULT_TIMEOUT",
    "Finding",
    "ScoreScript",
    "ScoreTestResult",
    "check_score_script",
    "jsonable",
    "read_request",
    "resolve_model_dir",
    "smoke_test_score_script",
]
