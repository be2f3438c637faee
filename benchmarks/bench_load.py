"""How cheap is it to start using jupyter_mlep in a notebook?

Figures (medians over RUNS fresh interpreters, measured in one run):
- ``%load_ext jupyter_mlep`` in a fresh IPython shell (the extra time over IPython alone);
- ``%%score_script`` check of a realistic scoring script, without ``--test``;
- ``import azure.ai.ml`` (the official Azure ML SDK) as the peer baseline, from its own
  virtual environment (``.bench-venv``, created by ``scripts/bench`` — azure-ai-ml is not a
  dependency of jupyter_mlep).

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_load.py [--runs N]``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import REPO, fresh_ms, median_of, print_table

LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", "jupyter_mlep")
print((time.perf_counter() - start) * 1000)
"""

IPYTHON_ALONE = """
import time
start = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
print((time.perf_counter() - start) * 1000)
"""

SDK_IMPORT = """
import time
start = time.perf_counter()
import azure.ai.ml
print((time.perf_counter() - start) * 1000)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sdk-python", default=str(REPO / ".bench-venv" / "bin" / "python"))
    args = parser.parse_args()

    load, _ = median_of(args.runs, lambda: fresh_ms(LOAD_EXT))
    shell, _ = median_of(args.runs, lambda: fresh_ms(IPYTHON_ALONE))
    rows = [
        ("`%load_ext jupyter_mlep` (extra over bare IPython)", f"{load:.1f} ms", "target ≤ 50 ms"),
        ("bare IPython shell start (import + instance)", f"{shell:.1f} ms", "for scale"),
    ]
    if Path(args.sdk_python).exists():
        sdk, _ = median_of(args.runs, lambda: fresh_ms(SDK_IMPORT, python=args.sdk_python))
        rows.append(("`import azure.ai.ml` (peer baseline)", f"{sdk:.0f} ms", ""))
        rows.append(("ratio SDK import / `%load_ext`", f"{sdk / load:.0f}×", "target ≥ 30×"))
    else:
        print(
            f"(no {args.sdk_python}: run scripts/bench to create it; skipping the SDK baseline)",
            file=sys.stderr,
        )
    print_table(f"Loading (median of {args.runs} fresh interpreters)", rows)


if __name__ == "__main__":
    main()
