"""The public API of jupyter_mlep.specs: a flat, sorted re-export that imports without IPython."""

from __future__ import annotations

import subprocess
import sys

import jupyter_mlep.specs as specs
from jupyter_mlep._errors import MlepError, SpecError


def test_all_is_sorted_and_complete() -> None:
    assert specs.__all__ == sorted(specs.__all__, key=lambda name: (not name.isupper(), name))
    public = {name for name in dir(specs) if not name.startswith("_")}
    assert set(specs.__all__) == public - {"annotations"}
    for name in specs.__all__:
        assert getattr(specs, name) is not None


def test_spec_classes_cover_every_kind() -> None:
    assert sorted(specs.SPEC_CLASSES) == sorted(specs.KINDS)
    for kind, cls in specs.SPEC_CLASSES.items():
        assert cls.kind == kind
        assert cls.__doc__


def test_importing_specs_does_not_import_ipython() -> None:
    code = "import sys, jupyter_mlep.specs; print('IPython' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_errors_are_in_the_one_tree() -> None:
    assert issubclass(SpecError, MlepError)
