"""``migrate-v1`` on the v1 fixtures (``tests/fixtures/v1``): how many v1 settings each conversion
carried and dropped (every field is one or the other; ``tests/operations/test_migrate_v1.py``
asserts it), and the median time of a conversion (read, convert, validate, write, check the script).

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_migrate_v1.py [--runs N]``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import print_table

from jupyter_mlep.operations import migrate_v1

V1 = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "v1"
CASES = {
    "ACI → managed": ("aci", None),
    "AKS → managed": ("aks", None),
    "AKS → Kubernetes": ("aks", "kubernetes"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlep-bench-v1-") as tmp:
        for label, (folder, to) in CASES.items():
            pair = (V1 / folder / "inferenceconfig.json", V1 / folder / "deploymentconfig.json")
            times, result = [], None
            for run in range(args.runs):
                started = time.perf_counter()
                result = migrate_v1(*pair, endpoint="bench-v1", out=Path(tmp) / f"{folder}-{to}-{run}", to=to)
                times.append((time.perf_counter() - started) * 1000)
            assert result is not None
            rows.append(
                (
                    f"{label}: settings carried / dropped (with the reason)",
                    f"{len(result.carried)} / {len(result.dropped)}",
                    f"conversion median {statistics.median(times):.1f} ms over {args.runs} runs",
                )
            )
    print_table("migrate-v1 on the v1 fixtures", rows)


if __name__ == "__main__":
    main()
