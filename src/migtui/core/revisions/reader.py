"""The one place that opens and imports revision files, and the one cache of what they hold.

Every entry belongs to one resolved path and is valid for one key, the file's
``(size, mtime_ns)`` (its *file key*): the bytes, what was derived from them (the
header, the parsed upgrade()/downgrade()), and the imported module. When the key of a
path changes, everything known about it is dropped at once, so a header, a source view
and a module of two different versions of one file can never be mixed.

Lock order: ``_LOCK`` here is a leaf. It is held only for dictionary work, never while
a file is imported or env.py runs, so code that env.py (or a thread env.py starts)
calls back into can always take it. Importing a module runs user code without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")
FileKey = tuple[int, int]  # (size, mtime in ns)
# The module attribute holding the SHA-256 of the bytes a revision module was compiled from.
SOURCE_HASH = "__migtui_sha256__"


@dataclass
class _Entry:
    key: FileKey
    source: bytes | None = None
    derived: dict[str, Any] = field(default_factory=dict)
    module: ModuleType | None = None


_LOCK = threading.Lock()
_ENTRIES: dict[str, _Entry] = {}


def file_key(path: str | Path) -> FileKey:
    """(size, mtime_ns) of a file: what every cache of revision files is keyed by."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _entry(path: str, key: FileKey) -> _Entry:
    with _LOCK:
        entry = _ENTRIES.get(path)
        if entry is None or entry.key != key:
            entry = _ENTRIES[path] = _Entry(key)
        return entry


def read_source(path: str, key: FileKey | None = None) -> bytes:
    """The bytes of a revision file (cached while its file key stays the same)."""
    key = file_key(path) if key is None else key
    entry = _entry(path, key)
    if entry.source is None:
        with open(path, "rb") as f:
            entry.source = f.read()
    return entry.source


def derived(path: str, what: str, compute: Callable[[bytes], T]) -> T:
    """``compute(source)`` for the file as it is now, computed once per file key."""
    key = file_key(path)
    entry = _entry(path, key)
    if what not in entry.derived:
        entry.derived[what] = compute(read_source(path, key))
    value: T = entry.derived[what]
    return value


def load_module(path: str, key: FileKey | None = None, *, keep: bool = True) -> ModuleType:
    """The revision module, imported once per file key, as Alembic's loader imports it.

    A ``.py`` file is compiled from the very bytes :func:`read_source` returned (and
    :func:`source_hash` hashed), so what runs is what was read and reviewed, even if
    the file changes while it is imported. ``keep=False`` imports it anew without keeping
    it (verifying thousands of files should not hold thousands of modules). Raises
    whatever the file raises. No lock is held while the file runs: a revision may import
    slowly, or start threads that read other revisions.
    """
    key = file_key(path) if key is None else key
    entry = _entry(path, key)
    if entry.module is not None:
        return entry.module
    folder, name = os.path.split(path)
    if not name.endswith(".py"):
        from alembic.util import load_python_file  # sourceless .pyc/.pyo

        module = load_python_file(folder, name)
    else:
        source = read_source(path, key)
        # The module id Alembic's load_python_file gives it.
        spec = importlib.util.spec_from_file_location(re.sub(r"\W", "_", name), path)
        if spec is None:  # pragma: no cover - a .py path always has a spec
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        exec(compile(source, path, "exec"), module.__dict__)
    module.__dict__[SOURCE_HASH] = hash_of(entry)
    if keep:
        entry.module = module
    return module


def hash_of(entry: _Entry) -> str:
    """The SHA-256 of the entry's bytes ("" for a file read only by Alembic's loader)."""
    if entry.source is None:
        return ""
    if "sha256" not in entry.derived:
        entry.derived["sha256"] = hashlib.sha256(entry.source).hexdigest()
    digest: str = entry.derived["sha256"]
    return digest


def source_hash(path: str) -> str:
    """The SHA-256 of a revision file as it is now: what a confirmed plan is pinned to."""
    key = file_key(path)
    read_source(path, key)
    return hash_of(_entry(path, key))


def forget_file(path: str) -> None:
    """Drop everything read of this file (it was written: read it again, whatever its
    size and mtime say)."""
    with _LOCK:
        _ENTRIES.pop(path, None)


def known_hash(path: str, key: FileKey) -> str | None:
    """The SHA-256 of the bytes read of this file at this file key, if any were (without
    reading it)."""
    with _LOCK:
        entry = _ENTRIES.get(path)
        if entry is None or entry.key != key:
            return None
        known = entry.derived.get("sha256", entry.derived.get("content_sha256"))
        return known if isinstance(known, str) else None


def hash_on_disk(path: str) -> str:
    """The SHA-256 of the file's bytes read now, past every cache: what a confirmed plan
    checks each of its files against just before it runs. A file rewritten keeping its
    size and mtime is forgotten here (what was read of it is read again next time)."""
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    with _LOCK:
        entry = _ENTRIES.get(path)
        if entry is not None:
            known = entry.derived.get("sha256", entry.derived.get("content_sha256"))
            if ((entry.source is not None and entry.source != data)
                    or (known is not None and known != digest)):
                del _ENTRIES[path]
    return digest


def content_hash(path: str, key: FileKey) -> str:
    """The SHA-256 of a file's bytes at this file key, read without keeping them: what
    the header cache checks a file against before it is trusted in a new process."""
    entry = _entry(path, key)
    digest = entry.derived.get("content_sha256")
    if digest is None:
        source = entry.source  # (the bytes read at this key, if any: a header's own)
        if source is None:
            with open(path, "rb") as f:
                source = f.read()
        digest = entry.derived["content_sha256"] = hashlib.sha256(source).hexdigest()
    return str(digest)


def forget(keep: set[str] | None = None) -> None:
    """Drop every entry (or every entry whose path is not in ``keep``)."""
    with _LOCK:
        for path in [p for p in _ENTRIES if keep is None or p not in keep]:
            del _ENTRIES[path]
