"""`jobimport backup`: a consistent copy of the SQLite file, taken with SQLite's online backup API
while the service keeps serving (in WAL mode readers and the copy run beside the writers)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

from jobimport.errors import StoreError
from jobimport.store.sqlite.integrity import quick_check


def backup(source: str, target: Path, *, force: bool = False) -> int:
    """Copy the database at `source` to `target`; returns the copy's size in bytes. The copy is
    written beside `target` and renamed into place once checked (`PRAGMA quick_check`), so a
    failed backup never leaves a half-written file, nor replaces a good one. An existing
    `target` is refused unless `force`."""
    if target.exists() and not force:
        raise StoreError(f"{target} exists: pass --force to replace it")
    if target.is_dir():
        raise StoreError(f"{target} is a directory: name the backup file")
    if source == ":memory:":
        raise StoreError("the store is in memory (sqlite:///:memory:): nothing to back up")
    if not Path(source).is_file():
        raise StoreError(f"no SQLite database at {source}")
    target = target.absolute()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise StoreError(f"cannot write the backup in {target.parent}: {exc.strerror}") from exc
    os.close(fd)
    try:
        uri = f"file:{quote(str(Path(source).resolve()))}?mode=ro"
        with (
            contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as src,
            contextlib.closing(sqlite3.connect(tmp)) as dst,
        ):
            src.backup(dst)  # all pages in one step: one consistent snapshot
            problem = quick_check(dst)
        if problem:
            raise StoreError(f"the copy of {source} fails its check: {problem}")
        os.replace(tmp, target)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up {source}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target.stat().st_size
