"""Loading a project's revisions: fast to show, authoritative before anything runs.

:class:`RevisionLoader` is what ``Project`` uses for its graph and script directory:

* ``graph()`` reads headers (no imports for plain files, cached by path, size and
  mtime) and builds the graph with every problem listed, in time linear in revisions;
  given the locations of the files (remembered from the last start), it needs neither
  Alembic nor the config: a warm start draws without importing alembic or SQLAlchemy;
* ``graph_at_hand()`` is the graph for the first frame: the one the last start built
  from exactly these files (core/revisions/graphcache.py), else ``graph()`` if that is
  quick; ``graph()`` builds it from the headers all the same before anything uses it;
* ``script()`` is an Alembic ``ScriptDirectory`` built from the same headers, whose
  revision modules are imported only when Alembic runs them; actions get it from
  ``script_for_action()``, which first re-checks the files on disk and refuses, with a
  one-line error naming the file, while any revision file is broken;
* ``verify()`` finishes the authoritative load in the background: it imports every
  revision module not yet imported (as Alembic would), reporting files that raise on
  import and correcting any header whose imported values differ.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from migtui.core.env.capture import quiet
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.models import RevisionGraph, ScriptProblem
from migtui.core.revisions.files import (
    FileRecord,
    Locations,
    RevisionFiles,
    current_file_keys,
    revision_files,
)
from migtui.core.revisions.graph import build_graph
from migtui.core.revisions.graphcache import GraphCache
from migtui.core.revisions.layout import graph_lanes, remember_lanes
from migtui.core.revisions.listing_ahead import ListingAhead
from migtui.core.revisions.problems import problems_text

if TYPE_CHECKING:  # alembic (and SQLAlchemy) only once the script directory is needed
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

_VERIFY_CHUNK = 25


class RevisionLoader:
    """The revision files of one project, read once and re-read when they change."""

    def __init__(self, config: Callable[[], Config], locations: Locations | None = None,
                 on_locations: Callable[[Locations], None] | None = None, *,
                 confirmed: bool = True) -> None:
        """``config()`` gives the Alembic config (built on first call); ``locations``,
        when known, are where the files were last time, or (not ``confirmed``) where the
        config file says without Alembic. They are checked once the script directory is
        built; ``on_locations`` hears what it found whenever that differs or was not
        confirmed yet."""
        self._config = config
        self._locations = locations
        self._confirmed = confirmed and locations is not None
        self._on_locations = on_locations
        self._files: RevisionFiles | None = None
        self._script: ScriptDirectory | None = None
        self._records: list[FileRecord] = []
        self._graph: RevisionGraph | None = None
        # The graph is for the first frame only: the graph cache's, or built from cached
        # headers not checked against the files' bytes yet. graph() builds it from the
        # checked headers (and replaces it if it differs) before anything else uses it.
        self._preview = False
        self._graph_cache: GraphCache | None = None
        self._kept: RevisionGraph | None = None  # the graph last handed to the graph cache
        self._generation = 0
        self._ahead: ListingAhead | None = None  # the files, listed by a child (list_ahead)
        # Revision files only: never held while env.py runs (see env/capture.py's lock order).
        self._lock = threading.RLock()

    # -- reading -------------------------------------------------------------

    def script(self) -> ScriptDirectory:
        """The script directory, created once (cheap) and reused until ``reload``."""
        from migtui.core.revisions.scriptdir import loaded_script_directory

        with self._lock:
            if self._script is None:
                script = loaded_script_directory(self._config(), self._alembic_scripts)
                found = Locations.of(script)
                news = found != self._locations or not self._confirmed
                if found != self._locations:
                    # Not where they were last time (or not known): read them there.
                    self._locations, self._graph = found, None
                if news and self._on_locations is not None:
                    self._on_locations(found)
                self._confirmed = True
                self._script = script
            return self._script

    def locations(self) -> Locations:
        """Where the revision files are (the script directory's, once it is built)."""
        with self._lock:
            if self._locations is None:
                self.script()
            assert self._locations is not None
            return self._locations

    def graph(self) -> RevisionGraph:
        """Every revision, newest first, with the problems found; files read only if changed."""
        with quiet(), self._lock:
            return self._graph_now()

    def _graph_now(self) -> RevisionGraph:
        """graph(), for a caller already quiet and holding the lock: a quiet() nested here
        could wait for ENV_LOCK while holding the lock (another thread's capture ended
        meanwhile), against a thread holding ENV_LOCK that waits for the lock."""
        if self._graph is None or self._preview:
            where = self.locations()
            try:
                with quick_gil_handover():
                    records = self._files_of(where).scan(where, self._importable)
            except Exception as exc:
                raise from_exception(exc, "Cannot read the revision files") from exc
            self._set_graph(records)
        if self._graph is not self._kept:  # (new, or drawn before it was checked)
            self._keep(self.locations())
        assert self._graph is not None
        return self._graph

    def _set_graph(self, records: list[FileRecord]) -> None:
        """The graph of these records (the caller holds the lock). Equal to the preview
        on screen, that one stays (with its lanes)."""
        graph = build_graph(records)
        if self._preview and self._graph is not None and self._graph == graph:
            graph = self._graph
        self._preview = False
        self._records, self._graph = records, graph

    def _keep(self, where: Locations) -> None:
        """Hand the graph to the graph cache, for the next start (written if it is new)."""
        graph = self._graph
        assert graph is not None
        listing = [(r.path, r.file_key) for r in self._records]
        self._cache_of(where).save(listing, graph, lambda: graph_lanes(graph))
        self._kept = graph

    def list_ahead(self) -> None:
        """Have a child process list and stat the revision files now, for
        graph_at_hand() (at launch, while the app imports Textual; see listing_ahead)."""
        with self._lock:
            if self._locations is not None and self._ahead is None and self._graph is None:
                self._ahead = ListingAhead.start(self._locations)

    def graph_at_hand(self, reads: int) -> RevisionGraph | None:
        """graph(), if that needs neither Alembic nor a revision module imported, nor
        more than ``reads`` files read (the header cache warm): quick enough for the
        UI thread before the first frame. None otherwise."""
        with quiet(), self._lock:
            if self._graph is None:
                where = self._locations
                if where is None:
                    return None
                ahead, self._ahead = self._ahead, None
                listing = (ahead.take(where) if ahead else None) or revision_files(where)
                cached = self._cache_of(where).load(listing)
                if cached is not None:
                    self._graph, self._kept, self._preview = cached[0], cached[0], True
                    remember_lanes(*cached)
                    return self._graph
                records = self._files_of(where).scan_quick(where, reads, listing)
                if records is None:
                    return None
                # A preview too: the cached headers are checked against the files' bytes
                # by the worker's graph() (then kept for the next start).
                self._set_graph(records)
                self._preview = True
            return self._graph

    def _importable(self) -> None:
        """Before a revision file is imported to read its header: prepend_sys_path first
        on sys.path, as for Alembic's own load (a revision may import the project)."""
        with contextlib.suppress(Exception):  # (the import says what is wrong, if anything)
            self.script()

    def _files_of(self, where: Locations) -> RevisionFiles:
        """The file reader of these locations' cache (the caller holds the lock)."""
        if self._files is None or self._files.cache_key != where.cache_key:
            self._files = RevisionFiles(where.cache_key)
        return self._files

    def _cache_of(self, where: Locations) -> GraphCache:
        """The graph cache of these locations (the caller holds the lock)."""
        if self._graph_cache is None or self._graph_cache.key != where.cache_key:
            self._graph_cache = GraphCache(where.cache_key)
        return self._graph_cache

    def reload(self) -> None:
        """Forget the graph and script directory; unchanged files are not read again."""
        with self._lock:
            self._generation += 1
            self._graph = None
            self._preview = False
            self._script = None

    def recheck(self) -> bool:
        """Check every known file's bytes (`r`): True, the graph forgotten, if any was
        rewritten keeping its size and mtime (the next graph() reads it again)."""
        with quiet(), self._lock:
            if self._files is None or not self._files.recheck():
                return False
        self.reload()
        return True

    def forget(self, paths: tuple[str, ...]) -> None:
        """Read these revision files again, even at the same (size, mtime): they were
        rewritten keeping both (found by a plan's check of their bytes)."""
        with self._lock:
            if self._files is not None:
                self._files.forget(paths)
        self.reload()

    def changed_on_disk(self) -> bool:
        """Whether any revision file was added, removed or modified since the last read."""
        with self._lock:
            if self._graph is None or self._preview:
                return False  # (not read yet: the next graph() reads them)
            known = {r.path: r.file_key for r in self._records}
            return current_file_keys(self.locations()) != known

    def script_for_action(self) -> ScriptDirectory:
        """The script directory to run an action with: re-read if files changed; refused
        (MigtuiError naming the file) while any revision file or link is broken."""
        with quiet(), self._lock:
            if self.changed_on_disk():
                self.reload()
            graph = self._graph_now()
            if graph.problems:
                raise refusal(graph.problems)
            return self.script()

    def _alembic_scripts(self) -> list[Script]:
        """Fresh Script objects for Alembic's RevisionMap (it mutates them)."""
        from alembic.script import Script

        from migtui.core.revisions.scriptdir import LazyScript

        with quiet(), self._lock:
            graph = self._graph_now()
            if graph.problems:
                raise refusal(graph.problems)
            scripts: list[Script] = []
            for r in self._records:
                if r.header is None:  # pragma: no cover - such a record is a problem
                    continue
                if r.script is not None:
                    scripts.append(Script(r.script.module, r.script.revision, r.path))
                else:
                    scripts.append(
                        LazyScript(r.path, r.file_key, r.header, self._import_failed)
                    )
            return scripts

    def _import_failed(self, problem: ScriptProblem) -> None:
        """A module failed to import while Alembic ran it: show the problem from now on."""
        with self._lock:
            if self._graph is not None and problem not in self._graph.problems:
                self._records = [
                    replace(r, problem=problem, verified=True) if r.path == problem.path else r
                    for r in self._records
                ]
                self._graph = replace(self._graph, problems=(*self._graph.problems, problem))
                if self._files is not None:
                    self._files.set_problem(problem)

    # -- the authoritative load ------------------------------------------------

    def verify(self, should_stop: Callable[[], bool] | None = None) -> RevisionGraph | None:
        """Import every revision module not yet imported, a few at a time.

        Returns the new graph if that found anything (a file that raises on import, a
        header that differs from the imported module), else None. Stops early, returning
        None, when ``should_stop()`` says so or the files are reloaded meanwhile.
        """
        with quiet(), self._lock:
            self._graph_now()
            files = self._files
            generation = self._generation
            todo = files.unverified() if files is not None else []
        if files is None:
            return None
        if todo:  # (building the script directory puts prepend_sys_path on sys.path)
            self._importable()
        changed = False
        try:
            for start in range(0, len(todo), _VERIFY_CHUNK):
                if should_stop is not None and should_stop():
                    return None
                with quiet(), self._lock:
                    if generation != self._generation:
                        return None
                    changed = bool(files.verify(todo[start:start + _VERIFY_CHUNK])) or changed
        finally:
            if todo:
                with self._lock:
                    files.save()
        if not changed:
            return None
        with self._lock:
            if generation != self._generation:
                return None
            assert self._locations is not None
            self._set_graph(files.records())
            self._keep(self._locations)
            self._script = None
            return self._graph


@contextmanager
def quick_gil_handover() -> Iterator[None]:
    """A scan makes a system call (stat) per file, and each one releases the GIL. While
    the UI thread is busy (say, the app starting), getting it back waits for the switch
    interval (5 ms) every time: 1,000 files cost seconds instead of milliseconds. A short
    interval while scanning avoids that convoy."""
    with _HANDOVER_LOCK:
        global _handovers
        if _handovers == 0:
            _HANDOVER_BEFORE[0] = sys.getswitchinterval()
            sys.setswitchinterval(min(_HANDOVER_BEFORE[0], 0.0002))
        _handovers += 1
    try:
        yield
    finally:
        with _HANDOVER_LOCK:
            _handovers -= 1
            if _handovers == 0:
                sys.setswitchinterval(_HANDOVER_BEFORE[0])


_HANDOVER_LOCK = threading.Lock()
_HANDOVER_BEFORE = [0.005]
_handovers = 0


def refusal(problems: tuple[ScriptProblem, ...]) -> MigtuiError:
    """The one-line error for an action that needs every revision file."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more; e shows them)" if len(problems) > 1 else ""
    what = ("a revision file is broken" if first.kind == "file"
            else "the revision history is broken")
    return MigtuiError(f"Alembic cannot load the revisions, {what}: {first.message}{more}",
                       problems_text(problems))
