"""How live the widgets are, and what their background pollers cost the kernel.

Against a local workspace started for the run (process runtime, its own ``MLEP_HOME``), in an
IPython shell with ``MlepMagics.widgets = "interactive"`` (ipywidgets work without a front end).

- state change: ``%endpoint deploy … --no-wait`` shows the status widget; a watcher thread
  reads the deployment over REST every 10 ms and notes when the service first reports
  ``Succeeded``; the figure is the delay from then to the widget's ``state`` trait changing.
- log line: a logs widget follows a deployment whose every request prints a line; the figure
  is the delay from sending the request (the line is written before the answer) to the line
  being in the widget's ``Output``.
- idle cost: the process CPU time (all threads) over 10 s while the status widget's poller
  watches a deployment that stays ``Creating`` (its ``init()`` sleeps), and while a logs widget
  follows a quiet log, minus the same 10 s without pollers; as a share of one core.

Run: ``scripts/bench`` (or ``.venv/bin/python benchmarks/bench_widgets.py [--runs N]``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _common import MODEL_1, print_table

PRINTING = """\
import json
import time

SLEEP = {sleep}


def init():
    time.sleep(SLEEP)
    print("Init complete")


def run(raw_data):
    print("scored:", json.loads(raw_data).get("line"))
    return {{"ok": True}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update(MLEP_HOME=str(folder / "home"), MLEP_RUNTIME="process", MLEP_TARGET="local")
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.utils.capture import capture_output
        from ipywidgets.widgets.widget import _instances

        from jupyter_mlep import operations as ops
        from jupyter_mlep.widgets import LogsWidget, StatusWidget
        from jupyter_mlep.workspace import stop

        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "jupyter_mlep")
        shell.run_line_magic("config", "MlepMagics.widgets = 'interactive'")
        conda = MODEL_1 / "environment" / "conda.yaml"

        def code_folder(name: str, sleep: float) -> Path:
            code = folder / name
            code.mkdir(exist_ok=True)
            (code / "score.py").write_text(PRINTING.format(sleep=sleep))
            return code

        def deploy(name: str, code: Path, *flags: str) -> Any:
            line = (
                f"deploy bench-w {name} --model {MODEL_1 / 'model'} --code {code} --scoring-script score.py "
                f"--env {conda} " + " ".join(flags)
            )
            with capture_output() as captured:
                result = shell.run_line_magic("endpoint", line)
            widgets = []
            for output in captured.outputs:
                view = output.data.get("application/vnd.jupyter.widget-view+json")
                if view and isinstance(_instances.get(view["model_id"]), StatusWidget):
                    widgets.append(_instances[view["model_id"]])
            return result, widgets[0]

        try:
            fast = code_folder("fast", 0.0)
            deploy("blue", fast, "--all-traffic")  # endpoint, environment (cold), first deployment
            client = ops.connect()

            # -- state change: service reports Succeeded → widget's trait ------------------------
            delays = []
            for run in range(args.runs):
                (fast / "score.py").write_text(PRINTING.format(sleep=0.0) + f"# run {run}\n")
                reported: list[float] = []
                seen: list[float] = []
                stop_watch = threading.Event()

                busy: list[str] = []

                def watch(
                    name: str,
                    reported: list[float] = reported,
                    stop_watch: Any = stop_watch,
                    busy: Any = busy,
                ) -> None:
                    with ops.connect() as own:
                        while not stop_watch.is_set():
                            state = ops.get_deployment(own, "bench-w", name).provisioning_state
                            if state == "Succeeded" and busy and not reported:
                                reported.append(time.perf_counter())
                            elif state != "Succeeded":
                                busy.append(str(state))
                                reported.clear()
                            time.sleep(0.01)

                _result, widget = deploy("blue", fast, "--no-wait")
                watcher = threading.Thread(target=watch, args=("blue",), daemon=True)
                watcher.start()
                widget.observe(lambda c, seen=seen: seen.append(time.perf_counter()), "state")
                deadline = time.monotonic() + 60
                while widget.state != "Succeeded" and time.monotonic() < deadline:
                    time.sleep(0.005)
                final = seen[-1] if seen else time.perf_counter()
                time.sleep(0.05)
                stop_watch.set()
                watcher.join()
                if reported:
                    delays.append(final - reported[0])
                widget.poller.join(5)
                assert not widget.poller.running
                widget.close()

            # -- log line: written → shown -----------------------------------------------------
            logs = LogsWidget(ops.connect, "bench-w", "blue")
            time.sleep(1.0)
            line_delays = []
            for n in range(args.runs * 2):
                marker = f"m-{uuid.uuid4().hex[:8]}"
                shown = threading.Event()

                def check(_change: Any, marker: str = marker, shown: threading.Event = shown) -> None:
                    if marker in logs.text:
                        shown.set()

                logs.output.observe(check, "outputs")
                time.sleep(0.1 + 0.45 * (n % 4) / 3)  # different phases of the poll interval
                sent = time.perf_counter()
                ops.invoke(client, "bench-w", {"line": marker})
                shown.wait(10)
                line_delays.append(time.perf_counter() - sent if shown.is_set() else float("inf"))
                logs.output.unobserve(check, "outputs")

            # -- idle cost -----------------------------------------------------------------------
            def cpu_share(seconds: float) -> float:
                started, cpu = time.perf_counter(), time.process_time()
                time.sleep(seconds)
                return (time.process_time() - cpu) / (time.perf_counter() - started)

            logs.close()
            baseline = cpu_share(args.idle_seconds)
            slow = code_folder("slow", args.idle_seconds + 20)
            _result, waiting = deploy("green", slow, "--no-wait")
            time.sleep(0.5)
            status_polls = waiting.poller.polls
            polling = cpu_share(args.idle_seconds)
            status_polls = waiting.poller.polls - status_polls
            still = waiting.state
            waiting.close()
            quiet = LogsWidget(ops.connect, "bench-w", "blue")
            time.sleep(1.0)
            following = cpu_share(args.idle_seconds)
            quiet.close()
            client.close()
        finally:
            with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
                shell.run_line_magic("endpoint", "delete bench-w")
            stop(folder / "home")

    ms = [d * 1000 for d in delays]
    line_ms = [d * 1000 for d in line_delays]
    print_table(
        f"Widgets: liveness and idle cost (local workspace, process runtime; medians of {len(ms)} / "
        f"{len(line_ms)})",
        [
            (
                "state change: service reports Succeeded → status widget trait (--no-wait poller)",
                f"{statistics.median(ms):.0f} ms (max {max(ms):.0f})",
                "target ≤ 1 s; poll every 0.5 s",
            ),
            (
                "log line written → shown in the logs widget",
                f"{statistics.median(line_ms):.0f} ms (max {max(line_ms):.0f})",
                "target ≤ 1 s; read every 0.5 s",
            ),
            (
                f"status poller, deployment {still} for {args.idle_seconds:.0f} s: kernel CPU",
                f"{(polling - baseline) * 100:.2f} % of a core ({status_polls} polls)",
                "target < 2 %",
            ),
            (
                "logs widget following a quiet log: kernel CPU",
                f"{(following - baseline) * 100:.2f} % of a core",
                "target < 2 %",
            ),
            ("baseline (no poller)", f"{baseline * 100:.2f} % of a core", ""),
        ],
    )


if __name__ == "__main__":
    main()
