"""Watch folders for changed source files (revision files, models), on a thread of its own.

Used by the pending-changes screen (the folders of the modules the models come from:
saving a model re-runs the comparison) and for the versions folders (a revision file
added, changed or deleted refreshes the graph). The callback runs on the watcher's
thread, once per burst of changes (``debounce``): post a message from it, touch no
widget.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

OnChange = Callable[[frozenset[str]], object]  # the paths changed (added, modified, deleted)


class FolderWatcher:
    """Call ``on_change`` with the changed files whose names end with ``suffixes``."""

    def __init__(self, folders: Iterable[str], on_change: OnChange,
                 suffixes: tuple[str, ...] = (".py",), recursive: bool = False,
                 debounce_ms: int = 300) -> None:
        self.folders = tuple(sorted({str(Path(f).resolve()) for f in folders
                                     if os.path.isdir(f)}))
        self._on_change = on_change
        self._suffixes = suffixes
        self._recursive = recursive
        self._debounce = debounce_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> FolderWatcher:
        if self.folders and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="migtui-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (returns at once; the thread ends within a step)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def _wanted(self, _change: watchfiles.Change, path: str) -> bool:
        return path.endswith(self._suffixes) and "__pycache__" not in path

    def _run(self) -> None:
        # A folder deleted while watched, or no inotify watches left: watching just ends.
        with contextlib.suppress(Exception):
            for changes in watchfiles.watch(
                    *self.folders, watch_filter=self._wanted, debounce=self._debounce,
                    stop_event=self._stop, recursive=self._recursive,
                    raise_interrupt=False):
                if self._stop.is_set():
                    return
                self._on_change(frozenset(path for _, path in changes))
