"""How fast is ``%%score_script``?

Figures (medians, measured in one run):
- the check without ``--test``, on first use in a fresh IPython (including importing the
  scoring package), and again once loaded;
- the ``--test`` overhead: wall time of the smoke test minus the script's own import,
  ``init()`` and ``run()`` (the fresh process, passing the request, collecting the result),
  for a trivial script and for the Azure ML example model ``model-1``.

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_score_script.py [--runs N]``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import MODEL_1, MODEL_1_SCRIPT, fresh_ms, median_of, print_table

TRIVIAL_SCRIPT = "import json\n\ndef init():\n    pass\n\ndef run(raw):\n    return json.loads(raw)\n"

FIRST_CHECK = """
import time, contextlib, io
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "jupyter_mlep")
cell = open({script!r}).read()
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    shell.run_cell_magic("score_script", "{path} --model-dir {model_dir}", cell)
print((time.perf_counter() - start) * 1000)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from jupyter_mlep.scoring import check_score_script, smoke_test_score_script

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "source.py"
        source.write_text(MODEL_1_SCRIPT)
        first, _ = median_of(
            args.runs,
            lambda: fresh_ms(
                FIRST_CHECK.format(script=str(source), path=folder / "score.py", model_dir=MODEL_1),
                cwd=folder,
            ),
        )
        model_script = folder / "score.py"
        model_script.write_text(MODEL_1_SCRIPT)
        trivial_script = folder / "trivial.py"
        trivial_script.write_text(TRIVIAL_SCRIPT)

        def warm_check() -> float:
            start = time.perf_counter()
            check_score_script(model_script, model_dir=MODEL_1)
            return (time.perf_counter() - start) * 1000

        warm, _ = median_of(args.runs, warm_check)
        request = (MODEL_1 / "sample-request.json").read_bytes()
        trivial = [smoke_test_score_script(trivial_script, b'{"a": 1}') for _ in range(args.runs)]
        model = [smoke_test_score_script(model_script, request, model_dir=MODEL_1) for _ in range(args.runs)]

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print_table(
        f"%%score_script (medians of {args.runs})",
        [
            ("check, first use in a fresh IPython (incl. imports)", f"{first:.1f} ms", "target ≤ 100 ms"),
            ("check, once loaded", f"{warm:.1f} ms", ""),
            (
                "`--test` overhead, trivial script",
                f"{med([t.overhead_ms for t in trivial]):.0f} ms",
                "target ≤ 300 ms",
            ),
            (
                "`--test` overhead, model-1",
                f"{med([t.overhead_ms for t in model]):.0f} ms",
                f"script's own import+init+run {med([t.load_ms + t.init_ms + t.run_ms for t in model]):.0f} ms",
            ),
        ],
    )


if __name__ == "__main__":
    main()
