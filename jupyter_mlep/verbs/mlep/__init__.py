"""The verbs of ``%mlep`` that act on the workspace (``create -f FILE``, ``show``, ``list``, ``delete``),
one module each; ``jupyter-mlep create …`` and the others are the same verbs on the command line."""
