"""The project's own modules imported in this process, and which changed on disk since.

Python imports a module once per process. After ``settings.py`` (which env.py reads its
URL from), a helper that a revision imports, or the models are edited, every later
env.py run in migtui still runs the copy imported first, where ``alembic`` would import
the new one. Importing them again in place is not safe (SQLModel's and declarative
metadata is process-wide: a second import of the models fails or doubles them), so
migtui says so instead: a step's confirmation names the files that changed, and a step
is refused when one changed after its confirmation was shown (core/revisions/scriptdir
``Pinned``). Autogenerate runs in fresh processes and always sees the files as they are.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parents[2])  # migtui itself
_lock = threading.Lock()
_seen: dict[str, tuple[int, int]] = {}  # file -> (mtime_ns, size) when first seen here
_classified: dict[str, str | None] = {}  # module name -> its file, if the project's


def project_files(exclude: Iterable[str] = ()) -> set[str]:
    """The source files of the modules imported in this process that are the user's:
    outside Python's own folders, the installed packages and migtui; ``exclude``: more
    folders to leave out (the revision files' own)."""
    skip = _skipped(exclude)
    found = (_project_file(name, module, skip) for name, module in list(sys.modules.items()))
    return {path for path in found if path is not None}


def failed_files(exc: BaseException, exclude: Iterable[str] = ()) -> set[str]:
    """The user's source files an import that raised ``exc`` was in: its traceback's
    frames, and the file of a SyntaxError (a module that failed to import is not in
    sys.modules, but saving it again is what the user will do)."""
    skip = _skipped(exclude)
    paths = [frame.f_code.co_filename for frame, _line in traceback.walk_tb(exc.__traceback__)]
    for error in (exc, exc.__cause__, exc.__context__):
        if isinstance(error, SyntaxError) and error.filename:
            paths.append(error.filename)
    found = (_project_file("", _File(path), skip) for path in paths if os.path.isfile(path))
    return {path for path in found if path is not None}


class _File:
    def __init__(self, path: str) -> None:
        self.__file__ = path


def note_imported(script_dir: str) -> None:
    """After an env.py run: remember the project's modules imported so far, as their
    files are now (only modules not seen before are looked at: each is imported once)."""
    with _lock:
        new = [(n, m) for n, m in list(sys.modules.items()) if n not in _classified]
        if not new:
            return
        skip = _skipped([script_dir])
        for name, module in new:
            path = _classified[name] = _project_file(name, module, skip)
            if path is not None and path not in _seen:
                _seen[path] = _stat(path)


def _skipped(exclude: Iterable[str]) -> list[str]:
    skip = [str(Path(s).resolve()) for s in (sys.prefix, sys.base_prefix, sys.exec_prefix)]
    return [*skip, _PACKAGE, *(str(Path(e).resolve()) for e in exclude)]


def _project_file(name: str, module: object, skip: list[str]) -> str | None:
    path = None if name == "__main__" else getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return None
    resolved = str(Path(path).resolve())
    return None if any(resolved.startswith(s + os.sep) for s in skip) else resolved


def forget_all() -> None:
    """Look at every module afresh, as a new process would (a test starts a new app in
    the same process: what earlier tests imported and changed is not its own)."""
    with _lock:
        _seen.clear()
        _classified.clear()


def changed_since_imported() -> tuple[str, ...]:
    """The project's module files that differ from when this process imported them
    (edited, replaced or deleted since), sorted."""
    with _lock:
        seen = dict(_seen)
    return tuple(sorted(path for path, stat in seen.items() if _stat(path) != stat))


def short_names(paths: Sequence[str], cwd: str) -> str:
    """"settings.py, app/models.py" for a sentence: relative to ``cwd`` where inside."""
    def short(path: str) -> str:
        try:
            return os.path.relpath(path, cwd) if path.startswith(cwd + os.sep) else path
        except ValueError:
            return path
    names = [short(p) for p in paths]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _stat(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1)  # gone
    return (info.st_mtime_ns, info.st_size)
