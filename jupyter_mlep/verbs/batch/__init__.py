"""The ``%batch`` verbs (one module each, declared in :data:`jupyter_mlep.verbs.GROUPS`)."""
