"""The on-disk part of the revision header cache: one small JSON file per script directory.

Entries are keyed by the file's resolved path and valid only for the exact (size, mtime)
they were read at, with the SHA-256 of the bytes they were read from (a file rewritten
keeping its size and mtime is caught by it: core/revisions/files.py checks it once per
process before the entry is used for anything but the first frame). Only what depends
on the file's bytes alone is kept: plain headers, syntax errors, and whether importing
the file once agreed with its header. The folder is
``$MIGTUI_CACHE_DIR`` (empty: no disk cache), else the user's cache folder
(:func:`migtui.core.folders.cache_dir`: ``$XDG_CACHE_HOME/migtui`` or ``~/.cache/migtui``
on Linux); the least recently written files beyond a few hundred are removed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from migtui.core import folders
from migtui.core.models import ScriptProblem
from migtui.core.revisions.headers import Header

_FORMAT = 3
_FILES_KEPT = 200
Stamp = tuple[int, int]  # (size, mtime in ns)
Entry = tuple[Header | None, bool, ScriptProblem | None]  # header, verified, problem
Cached = tuple[Header | None, bool, ScriptProblem | None, str]  # ... and the bytes' SHA-256


@functools.cache
def alembic_version() -> str:
    """The installed Alembic's version, without importing it (that imports SQLAlchemy,
    ~0.3 s) nor importlib.metadata (~0.05 s): the line of ``alembic/__init__.py`` that
    sets ``__version__``; importlib.metadata only if that line is not found."""
    try:
        spec = importlib.util.find_spec("alembic")
        if spec is not None and spec.origin:
            source = Path(spec.origin).read_text(encoding="utf-8")
            found = re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']", source, re.M)
            if found:
                return found.group(1)
    except (OSError, ValueError, ImportError):
        pass
    from importlib import metadata

    return metadata.version("alembic")


def cache_dir() -> Path | None:
    """Where the cache files live (None: no disk cache)."""
    configured = os.environ.get("MIGTUI_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    return folders.cache_dir()


class DiskCache:
    """The cached headers of one script directory (read on first use, written on save)."""

    def __init__(self, key: str) -> None:
        folder = cache_dir()
        digest = hashlib.sha1(f"{key}|{sys.version_info[:2]}".encode()).hexdigest()[:20]
        self._file = folder / f"revisions-{digest}.json" if folder is not None else None
        self._data: dict[str, Any] | None = None
        self._dirty = False

    def _entries(self) -> dict[str, Any]:
        if self._data is None:
            self._data = {}
            if self._file is not None:
                try:
                    data = json.loads(self._file.read_text(encoding="utf-8"))
                    if data.get("format") == _FORMAT and data.get("alembic") == alembic_version():
                        self._data = dict(data.get("files", {}))
                except (OSError, ValueError, AttributeError):
                    pass
        return self._data

    def get(self, path: str, stamp: Stamp) -> Cached | None:
        """What was cached for this file at exactly this (size, mtime), if anything, with
        the SHA-256 of the bytes it was read from."""
        entry = self._entries().get(path)
        if not isinstance(entry, list) or len(entry) != 6 or (entry[0], entry[1]) != stamp:
            return None
        try:
            header = Header.from_json(entry[2]) if entry[2] is not None else None
            problem = None
            if entry[4] is not None:
                message, line, details = entry[4]
                problem = ScriptProblem(str(message), path=path, line=line,
                                        details=str(details))
        except (ValueError, TypeError, AttributeError):
            return None
        if header is None and problem is None:
            return None
        return header, bool(entry[3]), problem, str(entry[5])

    def content_of(self, path: str, stamp: Stamp) -> str | None:
        """The SHA-256 of the bytes this file's entry at this (size, mtime) was read from
        (without decoding the entry), or None."""
        entry = self._entries().get(path)
        if not isinstance(entry, list) or len(entry) != 6 or (entry[0], entry[1]) != stamp:
            return None
        return entry[5] if isinstance(entry[5], str) else None

    def remember(self, path: str, stamp: Stamp, entry: Entry, content: str) -> None:
        """Keep this file's entry, read from bytes whose SHA-256 is ``content`` (written
        on the next save)."""
        if self._file is None:
            return
        header, verified, problem = entry
        data = [stamp[0], stamp[1], header.to_json() if header else None, verified,
                [problem.message, problem.line, problem.details] if problem else None,
                content]
        entries = self._entries()
        if entries.get(path) != data:
            entries[path] = data
            self._dirty = True

    def save(self, live: Iterable[str]) -> None:
        """Write the entries of the ``live`` files if anything changed; never raises."""
        if not self._dirty or self._file is None or self._data is None:
            return
        self._dirty = False
        keep = set(live)
        self._data = {k: v for k, v in self._data.items() if k in keep}
        data = {"format": _FORMAT, "alembic": alembic_version(), "files": self._data}
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_name(f"{self._file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self._file)
            prune(self._file.parent, "revisions")
        except OSError:
            pass


def prune(folder: Path, kind: str, suffix: str = ".json", keep: int = _FILES_KEPT) -> None:
    """Keep only the ``keep`` most recently written cache files named ``KIND-*SUFFIX``."""
    files = sorted(folder.glob(f"{kind}-*{suffix}"), key=lambda p: p.stat().st_mtime)
    for old in files[:len(files) - keep]:
        with contextlib.suppress(OSError):
            old.unlink()
    for tmp in folder.glob(f"{kind}-*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > 3600:
                tmp.unlink()
