"""The verbs of ``%endpoint`` and ``jupyter-mlep endpoint``, one module each (see :mod:`jupyter_mlep.verbs`).

Each module declares ``VERB``; verbs parse, call :mod:`jupyter_mlep.operations` and return the result.
"""
