"""Content hashes of files and folders: SHA-256 over the relative paths and the contents.

An unchanged folder (same file names, same bytes) has the same hash wherever it lives, so it is
neither uploaded nor versioned again. ``__pycache__`` folders, ``*.pyc`` files and
``.ipynb_checkpoints`` are left out (of the hash and of the upload).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .._errors import UsageError

__all__ = ["HASH_VERSION", "content_hash", "iter_files"]

HASH_VERSION = "mlep-sha256-1"
"""Names the hashing scheme (stored next to the hash, so a new scheme never matches an old hash)."""
_SKIPPED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints", ".git"})
_CHUNK = 1024 * 1024


def iter_files(path: Path) -> list[tuple[str, Path]]:
    """(relative POSIX name, file) pairs of a file or folder, sorted by name; a file is named by itself.

    A missing path raises :class:`~jupyter_mlep.UsageError`.
    """
    path = Path(path)
    if path.is_file():
        return [(path.name, path)]
    if not path.is_dir():
        raise UsageError(
            f"No such file or folder: {path}",
            hint="Give the path of an existing file or folder (relative paths start at the working folder).",
        )
    found: list[tuple[str, Path]] = []
    for item in path.rglob("*"):
        relative = item.relative_to(path)
        if any(part in _SKIPPED_DIRS for part in relative.parts) or item.suffix == ".pyc":
            continue
        if item.is_file():
            found.append((relative.as_posix(), item))
    return sorted(found)


def content_hash(path: Path) -> str:
    """The hex SHA-256 of a file or folder: every relative name, size and content, in name order."""
    digest = hashlib.sha256()
    for name, file in iter_files(Path(path)):
        encoded = name.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
        digest.update(file.stat().st_size.to_bytes(8, "big"))
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
