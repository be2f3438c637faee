"""Test support shared by every test package and by the benchmarks (helpers only, no fixtures).

``tests/`` is on ``sys.path`` while pytest runs (rootdir conftest, ``prepend`` import mode), so the
tests import ``support.<module>``; the benchmarks put ``tests/`` on ``sys.path`` themselves
(``benchmarks/_common.py``). The fixtures built on these helpers live in the conftests.

* :mod:`support.samples`: the fixture model-1 and its sample tree, the test-written scoring scripts,
  runtime specs of model-1, result comparison.
* :mod:`support.workspace`: the one way to run a local workspace server (and stop everything it left).
* :mod:`support.arm`: a thin ARM client of a workspace, fault injection, asset registration.
* :mod:`support.clients`: the REST client factory of the tests.
* :mod:`support.net`: free ports, small HTTP helpers, Azurite.
* :mod:`support.waiting`: unique names and polling.
* :mod:`support.displays`: what an IPython cell displayed (widgets included).
* :mod:`support.endpoints`: an endpoint with one deployment of a test-written scoring script.
* :mod:`support.wrk`: Debian's ``wrk``, the independent load tool the profiler is checked against.
"""
