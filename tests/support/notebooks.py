"""Notebooks for papermill runs: written from cells, read back as text."""

from __future__ import annotations

from pathlib import Path

import nbformat


def notebook(path: Path, *cells: str, parameters: int | None = 1) -> Path:
    """Write a Python 3 notebook of code ``cells`` to ``path``; the cell at index ``parameters``
    (if any) is tagged ``parameters`` for papermill."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    if parameters is not None:
        nb.cells[parameters].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def outputs_text(path: Path) -> str:
    """Every output of an executed notebook as text: streams, plain-text data, errors with tracebacks."""
    texts = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
            texts.extend(output.get("traceback", []))
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return "\n".join(texts)
