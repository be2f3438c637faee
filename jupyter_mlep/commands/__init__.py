"""Sub-commands of ``jupyter-mlep``: one module each, with ``add_arguments(parser)`` and ``run(args)``."""
