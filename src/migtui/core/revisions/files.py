"""The revision files of a script directory, read once and re-read only when they change.

:func:`revision_paths` lists exactly the files Alembic's ``ScriptDirectory`` would load
(its version locations, ``recursive_version_locations``, ``sourceless``, duplicates).
:class:`RevisionFiles` reads each file's header without importing it where the file is
plain (see :mod:`migtui.core.revisions.headers`), imports it with Alembic's own loader where it is
not, and remembers the result keyed by (path, size, mtime) in memory and in a small
JSON cache on disk, so that a refresh after one file changed reads one file.

A broken file never stops the others from loading: it becomes a :class:`FileRecord`
with a :class:`ScriptProblem` (file, line, error, traceback).
"""

from __future__ import annotations

import os
import re
import stat
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migtui.core.env.capture import quiet
from migtui.core.models import ScriptProblem
from migtui.core.revisions.diskcache import DiskCache
from migtui.core.revisions.headers import Header, NotPlain, read_header
from migtui.core.revisions.reader import (
    FileKey,
    content_hash,
    forget_file,
    hash_on_disk,
    known_hash,
    load_module,
    read_source,
)
from migtui.core.secrets import scrub_secrets

if TYPE_CHECKING:  # Alembic is imported only when a file must be imported (not plain)
    from alembic.script import Script, ScriptDirectory

# The names Alembic's ScriptDirectory imports (alembic.script.base's _only_source_rev_file
# and _sourceless_rev_file; tests/test_loading_files.py checks they are still the same).
ONLY_SOURCE_REV_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
SOURCELESS_REV_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)(c|o)?$")


@dataclass(frozen=True)
class Locations:
    """Where a script directory loads revision files from: Alembic's own resolved values
    (``ScriptDirectory._version_locations``, ``sourceless``,
    ``recursive_version_locations``), kept so that the files can be listed without it."""

    dir: str
    version_locations: tuple[str, ...]
    sourceless: bool = False
    recursive: bool = False

    @classmethod
    def of(cls, script: ScriptDirectory) -> Locations:
        """The locations of an Alembic script directory."""
        return cls(str(script.dir), tuple(str(p) for p in script._version_locations),
                   bool(script.sourceless), bool(script.recursive_version_locations))

    @property
    def cache_key(self) -> str:
        """What the header cache of these files is keyed by."""
        return "|".join([self.dir, *self.version_locations])


@dataclass(frozen=True)
class FileRecord:
    """What one revision file holds, as far as it could be read."""

    path: str  # the resolved path, as Alembic's Script.path
    file_key: FileKey
    header: Header | None = None  # None when the file is broken
    plain: bool = True  # the header was read without importing the file
    verified: bool = False  # imported by Alembic's loader and found to agree
    problem: ScriptProblem | None = None
    script: Script | None = None  # Alembic's own Script, when the file had to be imported


def revision_paths(script: ScriptDirectory | Locations) -> list[Path]:
    """The files ``script`` loads revisions from, in Alembic's order (see revision_files)."""
    return [Path(path) for path, _stamp in revision_files(script)]


def revision_files(script: ScriptDirectory | Locations) -> list[tuple[str, FileKey]]:
    """The files ``script`` loads revisions from, in Alembic's order, with their file keys.

    Mirrors ``ScriptDirectory._load_revisions`` and ``Script._from_path`` (without
    importing anything): Alembic's own resolved version locations, the walk of
    ``Script._list_py_dir`` (``recursive_version_locations``, ``sourceless``), one entry
    per real path, and only the names that Alembic would import.
    """
    where = script if isinstance(script, Locations) else Locations.of(script)
    seen: set[str] = set()
    found: list[tuple[str, FileKey]] = []
    for location in where.version_locations:  # Alembic's resolved list of locations
        if not os.path.exists(location):
            continue
        for folder, names in _list_py_dir(where, location):
            # Strings joined by hand, each folder resolved once: os.path's calls for
            # each of 10,000 files took a tenth of a second before the first paint.
            prefix = os.path.join(folder, "")
            real_folder = os.path.realpath(folder)
            real_prefix = os.path.join(real_folder, "")
            for name in names:
                try:
                    st = os.lstat(prefix + name)
                    if stat.S_ISLNK(st.st_mode):  # Path.resolve(), as Alembic does
                        real = os.path.realpath(prefix + name)
                        st = os.stat(real)
                        real_dir, real_name = os.path.split(real)
                    else:
                        real, real_dir, real_name = real_prefix + name, real_folder, name
                except OSError:
                    continue  # removed while listing, or a dangling link
                if real in seen:
                    continue
                seen.add(real)
                if _alembic_would_load(where, real_dir, real_name):
                    found.append((real, (st.st_size, st.st_mtime_ns)))
    return found


def _list_py_dir(where: Locations, path: str) -> list[tuple[str, list[str]]]:
    """``Script._list_py_dir`` with strings instead of Path objects (same order), as
    (folder, names) pairs."""
    found: list[tuple[str, list[str]]] = []
    for root, dirs, files in os.walk(path, topdown=True):
        if os.path.basename(root).endswith("__pycache__"):
            continue
        found.append((root, sorted(files)))
        if where.sourceless:
            cache = os.path.join(root, "__pycache__")
            if os.path.exists(cache):
                names = {name.split(".")[0] for name in files}
                found.append((cache, [pyc for pyc in os.listdir(cache)
                                      if pyc.split(".")[0] not in names]))
        if not where.recursive:
            break
        dirs.sort()
    return found


def _alembic_would_load(where: Locations, folder: str, name: str) -> bool:
    pattern = SOURCELESS_REV_FILE if where.sourceless else ONLY_SOURCE_REV_FILE
    match = pattern.match(name)
    if not match:
        return False
    if where.sourceless and match.group(2) in ("c", "o"):
        py_exists = os.path.exists(os.path.join(folder, match.group(1)))
        pyc_exists = os.path.exists(os.path.join(folder, match.group(1) + "c"))
        if py_exists or (match.group(2) == "o" and pyc_exists):
            return False
    return True


def _same_bytes(path: str, file_key: FileKey, content: str) -> bool:
    """Whether a file still holds the bytes (SHA-256 ``content``) a cache entry was read from."""
    try:
        return content_hash(path, file_key) == content
    except OSError:
        return False


def current_file_keys(script: ScriptDirectory | Locations) -> dict[str, FileKey]:
    """Every revision file with its file key: compare two of these to notice changes."""
    return dict(revision_files(script))


def problem_from(exc: BaseException, path: str, what: str = "") -> ScriptProblem:
    """A ScriptProblem naming the file and the line of ``path`` where ``exc`` arose."""
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.lineno:
        line = exc.lineno
    else:
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if os.path.realpath(frame.f_code.co_filename) == path:
                line = lineno
    text = scrub_secrets(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    error = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.msg:
        error = f"SyntaxError: {exc.msg}"
    where = os.path.basename(path) + (f", line {line}" if line else "")
    shown = (traceback.format_exception_only(exc) if isinstance(exc, SyntaxError)
             else traceback.format_exception(exc))  # our parser's frames say nothing
    details = f"{path}\n\n" + scrub_secrets("".join(shown))
    return ScriptProblem(f"{where}: {what}{error}", path=path, line=line, details=details)


def header_of_module(module: Any, path: str) -> Header:
    """The header values of a revision module that was imported."""
    revision = getattr(module, "revision", None)
    return Header(
        revision=revision if isinstance(revision, str) else repr(revision),
        down_revision=_plain(getattr(module, "down_revision", None)),
        branch_labels=_plain(getattr(module, "branch_labels", None)),
        depends_on=_plain(getattr(module, "depends_on", None)),
        doc=module.__doc__ if isinstance(module.__doc__, str) else None,
    )


def _plain(value: object) -> str | tuple[str, ...] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value)
    return str(value)


class RevisionFiles:
    """Reads the revision files of one script directory, caching by (path, size, mtime)."""

    def __init__(self, cache_key: str) -> None:
        self.cache_key = cache_key
        self._records: dict[str, FileRecord] = {}
        self._disk = DiskCache(cache_key)
        # Records taken from the disk cache by a quick scan, not yet checked against the
        # bytes of their file (path: (file key, SHA-256 the entry was read from)).
        self._unchecked: dict[str, tuple[FileKey, str]] = {}

    def scan(self, script: ScriptDirectory | Locations,
             before_import: Callable[[], object] | None = None) -> list[FileRecord]:
        """Every revision file of ``script``, reading only files that changed;
        ``before_import()`` is called before the first file that must be imported."""
        records = self._scan(script, None, before_import=before_import)
        assert records is not None
        return records

    def scan_quick(self, locations: Locations, reads: int,
                   listing: list[tuple[str, FileKey]] | None = None) -> list[FileRecord] | None:
        """scan(), or None if more than ``reads`` files must be read or any imported:
        a scan sure to be quick, in which no code of the project runs. ``listing``:
        ``revision_files(locations)``, when the caller has just listed them."""
        return self._scan(locations, reads, listing)

    def _scan(self, script: ScriptDirectory | Locations, reads: int | None,
              listing: list[tuple[str, FileKey]] | None = None,
              before_import: Callable[[], object] | None = None) -> list[FileRecord] | None:
        records: list[FileRecord] = []
        to_import: list[tuple[int, str, FileKey]] = []
        for key, file_key in revision_files(script) if listing is None else listing:
            known = self._records.get(key)
            if (known is not None and known.file_key == file_key and known.plain
                    and (reads is not None or key not in self._unchecked)):
                records.append(known)
                continue
            cached = self._disk.get(key, file_key)
            if cached is not None:
                if reads is not None:  # (quick: checked by the next full scan)
                    self._unchecked[key] = (file_key, cached[3])
                else:
                    self._unchecked.pop(key, None)
                    if not _same_bytes(key, file_key, cached[3]):
                        cached = None  # rewritten keeping its size and mtime: read again
            record = None if cached is None else FileRecord(
                key, file_key, header=cached[0], verified=cached[1], problem=cached[2])
            if record is None:
                if reads is not None:
                    reads -= 1
                    if reads < 0:
                        return None
                record = self._read(key, file_key)
                if record is None:
                    if reads is not None:
                        return None
                    to_import.append((len(records), key, file_key))
                    records.append(FileRecord(key, file_key))  # placeholder, filled below
                    continue
                self._remember_on_disk(record)
            records.append(record)
        if to_import:
            if before_import is not None:
                before_import()
            self._import_all(records, to_import)
        self._records = {r.path: r for r in records}
        self._disk.save(self._records)
        return records

    def _read(self, key: str, file_key: FileKey) -> FileRecord | None:
        """A record from the file's header, or None if it must be imported."""
        if not key.endswith(".py"):
            return None  # sourceless .pyc/.pyo: only Alembic's loader can read it
        try:
            header = read_header(read_source(key, file_key), key)
            return FileRecord(key, file_key, header=header)
        except NotPlain:
            return None
        except SyntaxError as exc:
            return FileRecord(key, file_key, problem=problem_from(exc, key))
        except (OSError, ValueError) as exc:  # unreadable, or NUL bytes in the source
            return FileRecord(key, file_key, problem=problem_from(exc, key))

    def _import_all(
        self, records: list[FileRecord], to_import: list[tuple[int, str, FileKey]],
    ) -> None:
        """Import files that are not plain with Alembic's own loader, one at a time."""
        from alembic.script import Script

        with quiet():
            for index, key, file_key in to_import:
                try:
                    module = load_module(key, file_key)
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # a revision file may raise anything
                    records[index] = FileRecord(key, file_key, problem=problem_from(exc, key))
                    continue
                if not hasattr(module, "revision"):  # as Script._from_path
                    records[index] = FileRecord(key, file_key, problem=ScriptProblem(
                        f"{os.path.basename(key)}: not a revision file (no `revision`)",
                        path=key))
                    continue
                records[index] = FileRecord(
                    key, file_key, header=header_of_module(module, key), plain=False,
                    verified=True, script=Script(module, module.revision, key),
                )

    def unverified(self) -> list[FileRecord]:
        """Plain files whose modules have not been imported yet."""
        return [r for r in self._records.values()
                if r.plain and not r.verified and r.header is not None]

    def verify(self, records: list[FileRecord]) -> list[FileRecord]:
        """Import these plain files as Alembic would and check they agree with their header.

        Returns the records that changed: a file that raises on import gets a problem; a
        file whose imported values differ from its header is marked not plain and carries
        the imported values. The imported modules are not kept. Call save() afterwards.
        """
        changed: list[FileRecord] = []
        with quiet():
            for record in records:
                if self._records.get(record.path) is not record:
                    continue  # re-read meanwhile
                try:
                    module = load_module(record.path, record.file_key, keep=False)
                    found = header_of_module(module, record.path)
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:
                    new = replace(record, verified=True, problem=problem_from(
                        exc, record.path, "cannot be imported: "))
                else:
                    if found == record.header:
                        new = replace(record, verified=True)
                        self._remember_on_disk(new)
                    else:
                        new = replace(record, header=found, plain=False, verified=True)
                    del module
                self._records[record.path] = new
                if new.problem is not None or new.header != record.header:
                    changed.append(new)
        return changed

    def save(self) -> None:
        """Write what verify() learnt to the disk cache (once, not per call)."""
        self._disk.save(self._records)

    def _remember_on_disk(self, record: FileRecord) -> None:
        """Cache what depends on the file's bytes alone (not import problems)."""
        if not record.plain or record.script is not None:
            return
        if record.problem is not None and record.header is not None:
            return  # an import problem depends on the environment
        try:
            content = content_hash(record.path, record.file_key)
        except OSError:
            return
        self._disk.remember(record.path, record.file_key,
                            (record.header, record.verified, record.problem), content)

    def set_problem(self, problem: ScriptProblem) -> None:
        """Attach a problem found later (an import failure) to its file's record."""
        known = self._records.get(problem.path or "")
        if known is not None:
            self._records[known.path] = replace(known, problem=problem, verified=True)

    def recheck(self) -> bool:
        """Compare every known file's bytes with those its record was read from (an
        explicit read again, `r`): a file rewritten keeping its size and mtime is read
        again at the next scan, as in a new process. True if there was one."""
        rewritten = False
        for path, record in list(self._records.items()):
            # What the record was read from: the disk cache's entry says, or the reader
            # (no cache folder, or a header only an import could read).
            read_from = (self._disk.content_of(path, record.file_key)
                         or known_hash(path, record.file_key))
            try:
                now = hash_on_disk(path)
            except OSError:
                continue  # (gone: the next scan's listing says so)
            if read_from != now:
                self._records.pop(path)
                rewritten = True
        return rewritten

    def forget(self, paths: tuple[str, ...]) -> None:
        """Read these files again at the next scan: their bytes are checked against the
        disk cache's entry then, as in a new process."""
        for path in paths:
            self._records.pop(path, None)
            forget_file(path)

    def records(self) -> list[FileRecord]:
        """The records of the last scan (with verification results), in Alembic's order."""
        return list(self._records.values())
