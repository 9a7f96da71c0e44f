"""An open Alembic project: the one object the app talks to."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from migtui.core.actions import partial_store
from migtui.core.actions.config import ProjectOptions, check_x_args, open_config
from migtui.core.actions.failures import what_failed
from migtui.core.actions.plan import Plan
from migtui.core.actions.remembered import (
    Remembered,
    Stamps,
    config_stamps,
    first_look,
    recall,
    remember,
)
from migtui.core.env.capture import LineSink, captured
from migtui.core.env.urls import database_identity, mask_url, mask_x_argument, same_database
from migtui.core.env.watch import Watch
from migtui.core.errors import MigtuiError, PlanChanged, from_exception
from migtui.core.models import (
    ActionResult,
    DatabaseStatus,
    PartialStep,
    ProjectInfo,
    RevisionGraph,
    Snapshot,
)
from migtui.core.revisions.files import Locations
from migtui.core.revisions.loader import RevisionLoader, quick_gil_handover

if TYPE_CHECKING:  # alembic imports SQLAlchemy: both only once the database is read
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from migtui.core.env.catalog import Catalog
    from migtui.core.revisions.scriptdir import Pinned

# Files whose headers graph_at_hand may read (the rest are cached): a few edited since
# the last start, never a cold cache of thousands on the UI thread.
AT_HAND_READS = 50


class Project:
    """An Alembic project opened from its config; every call blocks (run it in a worker).

    Opened with what the last start found (``remembered``), the Alembic config is built
    only when first needed: the graph is drawn from the cached headers before alembic
    (and SQLAlchemy) are even imported."""

    def __init__(self, config: Config | None, options: ProjectOptions, *,
                 remembered: Remembered | None = None, stamps: Stamps = (),
                 confirmed: bool = True) -> None:
        if config is None and remembered is None:
            raise ValueError("a Project needs its config or what the last start found")
        self._config = config
        self._config_lock = threading.Lock()
        self.options = options
        self._stamps = stamps
        self.revisions = RevisionLoader(  # headers, caches, the script directory
            lambda: self.config, remembered.locations if remembered else None,
            self._remember if stamps else None, confirmed=confirmed)
        for argument in options.x_args:
            mask_x_argument(argument)  # remembers its secrets, to scrub them from errors
        if config is not None:
            location = str(config.get_alembic_option("script_location") or "")
            config_file = str(config.config_file_name or config.toml_file_name or "")
        else:
            assert remembered is not None
            location, config_file = remembered.script_location, remembered.config_file
        self.info = ProjectInfo(
            config_file=config_file,
            section=options.name,
            script_location=location,
            read_only=options.read_only,
        )
        # A step the last action left half done, while the heads are still as it left them.
        self._partial: PartialStep | None = None

    @classmethod
    def open(cls, options: ProjectOptions) -> Project:
        """Open the project the options name; raises MigtuiError when it cannot."""
        check_x_args(options)  # (what is remembered does not depend on them)
        stamps = config_stamps(options)  # before reading: a later edit is then noticed
        remembered = recall(options, stamps)
        if remembered is not None:
            return cls(None, options, remembered=remembered, stamps=stamps)
        looked = first_look(options)  # a first start of a plain project: no Alembic yet
        if looked is not None:
            return cls(None, options, remembered=looked, stamps=stamps, confirmed=False)
        return cls(_open_config(options), options, stamps=stamps)

    @property
    def config(self) -> Config:
        """Alembic's config, built the first time it is needed (in a worker)."""
        with self._config_lock:
            if self._config is None:
                self._config = _open_config(self.options)
            return self._config

    def _remember(self, locations: Locations) -> None:
        """The script directory was built: keep where its files are for the next start."""
        remember(self.options, self._stamps,
                 Remembered(self.info.config_file, self.info.script_location, locations))

    # -- reading -------------------------------------------------------------

    def script(self) -> ScriptDirectory:
        """The script directory, created once and reused until ``reload``.

        Its revisions come from the headers already read; each revision module is
        imported only when Alembic first needs it (see core/revisions/loader.py).
        """
        try:
            return self.revisions.script()
        except MigtuiError:
            raise
        except Exception as exc:
            raise from_exception(exc, "Cannot read the revision files") from exc

    def version_folders(self) -> tuple[str, ...]:
        """The folders Alembic loads revision files from (watched for changes)."""
        try:
            return self.revisions.locations().version_locations
        except Exception:
            return ()

    def reload(self) -> None:
        """Forget the graph so the next read sees changes on disk (changed files only)."""
        self.revisions.reload()

    def files_written(self, paths: tuple[str, ...]) -> None:
        """Revision files seen written (the folder watcher): read again at the next read,
        whatever their size and mtime say."""
        self.revisions.forget(tuple(os.path.realpath(p) for p in paths))

    def recheck_files(self) -> bool:
        """Check every revision file's bytes, as `r` asks: True if one was rewritten
        keeping its size and mtime (the next graph() reads it again)."""
        return self.revisions.recheck()

    def graph(self) -> RevisionGraph:
        """Every revision, newest first, with ``problems`` listing broken files and links.

        Raises MigtuiError only if the script directory itself cannot be read.
        """
        try:
            return self.revisions.graph()
        except MigtuiError:
            raise
        except Exception as exc:
            raise from_exception(exc, "Cannot read the revision files") from exc

    def list_ahead(self) -> None:
        """Start listing the revision files in a child process, for graph_at_hand (at
        launch: the listing is ready by the time the app has imported Textual)."""
        self.revisions.list_ahead()

    def graph_at_hand(self) -> RevisionGraph | None:
        """The graph if it can be had at once (the header cache warm), else None."""
        return self.revisions.graph_at_hand(reads=AT_HAND_READS)

    def verify(self, should_stop: Callable[[], bool] | None = None) -> RevisionGraph | None:
        """Import the revision modules not yet imported (Alembic's authoritative load);
        the new graph if that found a problem, else None. Slow: run it in a worker."""
        return self.revisions.verify(should_stop)

    def _script_for_action(self, pinned: Pinned | None = None) -> ScriptDirectory:
        """The script directory, re-read if files changed; MigtuiError if one is broken
        (PlanChanged for a confirmed plan: broken or removed since its dialog)."""
        try:
            return self.revisions.script_for_action()
        except MigtuiError as exc:
            if pinned is None or isinstance(exc, PlanChanged):
                raise
            raise PlanChanged("Since you confirmed, the revision files changed and nothing "
                              f"ran: {exc.message}", exc.details) from exc

    def status(self, on_line: LineSink | None = None) -> DatabaseStatus:
        """The database's current heads, dialect and masked URL, read through env.py."""
        from migtui.core.env.status import read_status

        status = read_status(self.config, self.script(), on_line)
        asked = self.options.url  # (--url, an environment's url: sqlalchemy.url for env.py)
        if asked and status.url and not same_database(asked, status.url, self.options.cwd):
            status = replace(status, unused_url=mask_url(asked))
        return status

    def remember_secrets(self) -> None:
        """Remember the configured database URL's secrets for scrubbing (its status was
        read in another process, which masked what it sent)."""
        from migtui.core.env.status import remember_configured_secrets

        remember_configured_secrets(self.config)

    def snapshot(self, on_line: LineSink | None = None,
                 status: DatabaseStatus | None = None) -> Snapshot:
        """The graph and the database status together (``status``: as read elsewhere
        for this project, in another process, just now)."""
        if status is not None:  # (neither Alembic nor SQLAlchemy imported here for it)
            return Snapshot(self.info, self.graph(), status, self._partial_now(status))
        with quick_gil_handover():  # many short system calls while the UI thread is busy
            self.script()  # first: it may find the files elsewhere than last time
            graph = self.graph()
            status = self.status(on_line)
            return Snapshot(self.info, graph, status, self._partial_now(status))

    def _identity(self, status: DatabaseStatus) -> tuple[str, str]:
        return database_identity(status.url, self.options.cwd)

    def _partial_now(self, status: DatabaseStatus) -> PartialStep | None:
        """The step left half done on this database (by this run or an earlier one),
        while alembic_version still says what it said after the failure."""
        if status.reachable and (self._partial is not None
                                  or partial_store.kept_for(status.url)):
            self._partial = partial_store.still_partial(
                self._identity(status), status.current_heads, self._partial)
        return self._partial if status.reachable else None

    def forget_partial(self) -> None:
        """The user repaired the database: drop its "partially applied" mark."""
        status = self.status()
        self._partial = None
        if status.reachable:
            partial_store.forget(self._identity(status))

    # -- actions -------------------------------------------------------------

    def _heads(self, also: Callable[[Connection], None] | None = None) -> tuple[str, ...] | None:
        """The database's heads now (None: unreadable); ``also`` reads on its connection."""
        from migtui.core.env.status import read_status

        status = read_status(self.config, self.script(), also=also)
        return status.current_heads if status.reachable else None

    def _run(
        self, action: str, target: str, call: Callable[[LineSink, Watch], object],
        on_line: LineSink | None, *, writes_files: bool = False, watch: Watch | None = None,
    ) -> ActionResult:
        """Run ``call(sink, watch)``: it runs env.py (or an alembic command) with every line
        it writes sent to ``sink``, which keeps them for the result and streams them on;
        ``watch`` (the caller's, or a new one) notes each step and statement."""
        if self.options.read_only and action != "sql":
            raise MigtuiError("This session is read-only (--read-only): nothing was run")
        watch = watch or Watch()
        status = self.status()
        if status.write_refusal and action in ("upgrade", "downgrade", "stamp"):
            raise MigtuiError(status.write_refusal)
        before = status.current_heads if status.reachable else ()
        started = time.perf_counter()
        error = details = ""
        new_revision: str | None = None
        lines: list[str] = []
        plan_changed = False
        failed: BaseException | None = None

        def sink(line: str) -> None:
            lines.append(line)
            if on_line is not None:
                on_line(line)

        try:
            made = call(sink, watch)
            revision = getattr(made, "revision", None)
            new_revision = revision if isinstance(revision, str) else None
        except KeyboardInterrupt:
            raise
        except PlanChanged as exc:
            error, details, plan_changed = exc.message, exc.details, True
            if exc.rewritten:  # (the plan offered again must be made from their bytes)
                self.revisions.forget(exc.rewritten)
        except BaseException as exc:  # a revision may even call sys.exit()
            failed = exc
        finally:
            watch.finish()
        seconds = time.perf_counter() - started
        if writes_files:
            self.reload()
        from migtui.core.env.catalog import compare_catalogs, read_catalog

        now: list[Catalog] = []  # the schema after a failure, where DDL stays
        before_step = watch.step_catalog if failed is not None else None
        after = self._heads(also=(lambda conn: _append(now, read_catalog(conn, watch.step_tables)))
                            if before_step is not None else None)
        partial: PartialStep | None = None
        ran = list(watch.steps[:-1] if error and watch.steps else watch.steps)
        if failed is not None:
            changes = compare_catalogs(before_step, now[0]) if before_step and now else None
            error, details, partial, undone = what_failed(
                failed, action, lines, status.dialect, watch, after, changes,
                before if status.reachable else None)
            ran = [] if undone else watch.steps[:-1]
        if partial is not None:  # kept until the heads move (snapshot() checks)
            partial = self._partial = partial_store.remember(self._identity(status), replace(
                partial, error=error))
        return ActionResult(
            action=action,
            target=target,
            ok=not error,
            log=tuple(lines),
            heads_before=before,
            heads_after=after,
            seconds=seconds,
            error=error,
            error_details=details,
            new_revision=new_revision,
            plan_changed=plan_changed,
            steps=tuple(ran),
            partial=partial,
        )

    def run_plan(self, plan: Plan, on_line: LineSink | None = None,
                 watch: Watch | None = None) -> ActionResult:
        """Run a confirmed plan, exactly as confirmed or not at all.

        Inside the env.py run, after Alembic has read the database's heads on the
        connection the steps will use and before the first step, the heads, the set of
        revisions Alembic would run and the hash of every step's file are compared with
        the plan. Any difference raises PlanChanged: nothing runs, and the result says
        what changed (``plan_changed``). ``watch`` reports waits and can cancel.
        """
        from migtui.core.env.looking import noting_created_files, remove_if_unused
        from migtui.core.revisions.scriptdir import Pinned

        pinned = Pinned(frozenset(plan.heads), {s.revision: s.sha256 for s in plan.steps},
                        plan.database, None if plan.stale_modules is None
                        else frozenset(plan.stale_modules))
        run = {"upgrade": self.upgrade, "downgrade": self.downgrade,
               "stamp": self.stamp}.get(plan.action)
        if run is None:
            raise MigtuiError(f"Unknown action {plan.action!r}")
        with noting_created_files() as created:
            result = run(plan.target, on_line, pinned=pinned, watch=watch)
        if result.plan_changed:  # nothing ran: nor is a SQLite file left that did not exist
            for path in created:
                remove_if_unused(path)
        return result

    def upgrade(self, target: str = "+1", on_line: LineSink | None = None,
                pinned: Pinned | None = None, watch: Watch | None = None) -> ActionResult:
        """``alembic upgrade TARGET`` (``+1``, a revision, ``heads``)."""
        from migtui.core.revisions.scriptdir import run_upgrade

        return self._run(
            "upgrade", target,
            lambda sink, watch: run_upgrade(self.config, self._script_for_action(pinned), target,
                                     pinned=pinned, watch=watch, on_line=sink),
            on_line, watch=watch,
        )

    def downgrade(self, target: str = "-1", on_line: LineSink | None = None,
                  pinned: Pinned | None = None, watch: Watch | None = None) -> ActionResult:
        """``alembic downgrade TARGET`` (``-1``, a revision, ``base``)."""
        from migtui.core.revisions.scriptdir import run_downgrade

        return self._run(
            "downgrade", target,
            lambda sink, watch: run_downgrade(self.config, self._script_for_action(pinned), target,
                                       pinned=pinned, watch=watch, on_line=sink),
            on_line, watch=watch,
        )

    def stamp(self, target: str, on_line: LineSink | None = None,
              pinned: Pinned | None = None, watch: Watch | None = None) -> ActionResult:
        """``alembic stamp TARGET``: record a revision without running anything.

        When the database is on a revision that no file defines (say, after switching
        git branches) Alembic cannot resolve it, so the version table is purged first.
        """
        from migtui.core.revisions.scriptdir import heads_text, run_stamp

        def call(sink: LineSink, watch: Watch) -> None:
            graph = self.graph()
            status = self.status()
            heads = status.current_heads
            purge = any(h not in graph for h in heads)
            nonlocal pinned
            if purge and pinned is not None:
                pinned.check_database(status.identity)
                # Alembic purges the version table before the migration function sees
                # the heads: compare them here, just before.
                if pinned.heads is not None and frozenset(heads) != pinned.heads:
                    raise PlanChanged(
                        f"The database moved from {heads_text(pinned.heads)} to "
                        f"{heads_text(frozenset(heads))} since you confirmed: nothing ran")
                pinned = replace(pinned, heads=None)
            run_stamp(self.config, self._script_for_action(pinned), target, purge=purge,
                      pinned=pinned, watch=watch, on_line=sink)

        return self._run("stamp", target, call, on_line, watch=watch)

    def merge(
        self, message: str = "merge heads", revisions: tuple[str, ...] = ("heads",),
        on_line: LineSink | None = None,
    ) -> ActionResult:
        """``alembic merge``: write a merge revision joining the given heads."""
        from alembic import command

        return self._run(
            "merge", " ".join(revisions),
            lambda sink, _watch: _captured_call(
                sink, lambda: command.merge(self.config, list(revisions), message=message)),
            on_line, writes_files=True,
        )

    def new_revision(
        self, message: str, autogenerate: bool = False, on_line: LineSink | None = None,
        process_revision_directives: Callable[..., None] | None = None,
    ) -> ActionResult:
        """``alembic revision [--autogenerate] -m MESSAGE``; ``process_revision_directives``
        edits the directives after env.py's own hook, as the command's argument does."""
        if not message.strip():
            raise MigtuiError("A revision needs a message")
        from alembic import command

        def call(sink: LineSink, _watch: Watch) -> object:
            with captured(sink):
                made = command.revision(
                    self.config, message=message, autogenerate=autogenerate,
                    process_revision_directives=process_revision_directives)
            return made[0] if isinstance(made, list) else made

        return self._run("revision", message, call, on_line, writes_files=True)

    def sql(self, direction: str, start: str, end: str) -> str:
        """The SQL Alembic would run from START to END, rendered offline (``--sql``)."""
        from migtui.core.revisions.scriptdir import run_downgrade, run_upgrade

        buffer = io.StringIO()
        spec = f"{start}:{end}"
        fn = run_upgrade if direction == "upgrade" else run_downgrade
        try:
            fn(self.config, self._script_for_action(), spec, sql=True, output_buffer=buffer)
        except Exception as exc:
            raise from_exception(exc, "Cannot render the SQL") from exc
        return buffer.getvalue()


def _append(found: list[Catalog], catalog: Catalog | None) -> None:
    if catalog is not None:
        found.append(catalog)


def _captured_call(sink: LineSink, call: Callable[[], object]) -> object:
    """An alembic command that does not run env.py, with its output sent to ``sink``."""
    with captured(sink):
        return call()


def _open_config(options: ProjectOptions) -> Config:
    """open_config, with any unexpected failure made a MigtuiError."""
    try:
        return open_config(options)
    except MigtuiError:
        raise
    except Exception as exc:
        raise from_exception(exc, "Cannot read the Alembic config") from exc
