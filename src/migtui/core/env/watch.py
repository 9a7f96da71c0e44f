"""Watch a running migration: what it executes, what it waits for, and a way to stop it.

A :class:`Watch` is handed to an action before it starts. When Alembic gives the
migration function its connection, the watch attaches to it: every statement is noted
as it starts, and a watcher thread reports, twice a second, what the migration is
doing. On PostgreSQL it asks a second connection whether the migration's backend waits
on a lock and who holds it (``pg_blocking_pids``); on MySQL and MariaDB, the session's
state (a metadata or row lock wait) and the sessions in a transaction that can hold it.
On SQLite, whose busy wait can be neither watched nor interrupted, the migration first
waits for the file's write lock itself, saying so, before its first statement.

:meth:`Watch.cancel` stops the migration: the next statement is refused, and the
statement running now is cancelled on the server from the second connection
(``pg_cancel_backend``, ``KILL QUERY``) or interrupted (SQLite's ``interrupt()``).
Either way the error ends env.py's transaction, which rolls back (what MySQL's DDL
already committed stays).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from migtui.core.errors import MigtuiError

if TYPE_CHECKING:  # SQLAlchemy is imported once a migration runs (the app starts without)
    from sqlalchemy.engine import Connection, Engine

    from migtui.core.env.catalog import Catalog

_POLL_S = 0.5
_REPORT_AFTER_S = 0.8  # a statement running longer than this is reported

Reporter = Callable[[str], None]
StepReporter = Callable[[int, int, str], None]  # step k (from 1) of n, "upgrade a -> b"
TablesOf = Callable[[Any], "frozenset[str] | None"]  # the tables one of Alembic's steps touches


class Cancelled(MigtuiError):
    """The user cancelled the migration; its transaction rolled back."""


class Watch:
    """One running action's statements, waits and cancel switch (thread-safe)."""

    def __init__(self, report: Reporter | None = None,
                 on_step: StepReporter | None = None) -> None:
        self._report = report
        self._on_step = on_step
        self.steps: list[str] = []  # every step started, in order: "upgrade a, b -> c"
        self.step_statements: list[str] = []  # the statements of the last step started
        # The schema just before the last step started, where DDL is not rolled back
        # (None elsewhere, or when it could not be read): compared after a failure.
        self.step_catalog: Catalog | None = None
        self.step_tables: frozenset[str] | None = None  # read in full (None: all)
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._done = threading.Event()
        self._conn: Connection | None = None
        self._dbapi: Any = None
        self._dialect = ""
        self._percent_doubled = False  # SQLAlchemy doubles % for the driver (see as_sent)
        self._pid: int | None = None
        self._watcher_engine: Engine | None = None
        self.statement = ""
        self._started = 0.0
        self._thread: threading.Thread | None = None
        self.last_report = ""

    # -- called from the migration (env.py's thread) -------------------------------

    def attach(self, connection: Connection | None) -> bool:
        """Start watching the connection the steps run on (called by the migration fn).

        True if it had to wait for another writer first (read the heads again then)."""
        if connection is None or self._conn is connection:
            return False
        from sqlalchemy import event

        self._conn = connection
        self._dialect = connection.dialect.name
        self._percent_doubled = connection.dialect.paramstyle in ("format", "pyformat")
        with contextlib.suppress(Exception):
            self._dbapi = connection.connection.dbapi_connection
        event.listen(connection, "before_cursor_execute", self._before)
        event.listen(connection, "after_cursor_execute", self._after)
        backend_id = _BACKEND_ID.get(self._dialect)
        if backend_id is not None:
            with contextlib.suppress(Exception):
                self._pid = int(connection.exec_driver_sql(backend_id).scalar() or 0) or None
                self._watcher_engine = _second_engine(connection)
        self._thread = threading.Thread(target=self._watch, name="migtui-watch", daemon=True)
        self._thread.start()
        waited = self._dialect == "sqlite" and self._wait_for_sqlite_writer(connection)
        self.check()
        return waited

    def _wait_for_sqlite_writer(self, connection: Connection) -> bool:
        """Wait, visibly and cancellably, while another connection writes to the file.

        SQLite's own busy wait cannot be interrupted and says nothing. A second
        connection tries to take the write lock (and gives it back at once) until it
        gets it; then the migration's first write finds the database free.
        """
        path = connection.engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return False
        import sqlite3

        started = time.monotonic()
        waited = False
        while True:
            try:
                probe = sqlite3.connect(path, timeout=0.2, isolation_level=None)
            except sqlite3.Error:
                return waited
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return waited
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    return waited
            finally:
                probe.close()
            waited = True
            self.check()
            seconds = int(time.monotonic() - started)
            self._say(f"waiting for the database lock: another connection is writing to "
                      f"{os.path.basename(path)} ({seconds} s); cancel stops waiting")
            if self._cancelled.wait(_POLL_S):
                self.check()

    def _say(self, text: str) -> None:
        if text != self.last_report and self._report is not None:
            self.last_report = text
            with contextlib.suppress(Exception):
                self._report(text)

    def each_step(self, steps: list[Any], tables_of: TablesOf | None = None
                  ) -> Iterator[Any]:
        """Alembic's steps, noting each as it starts (Alembic runs each as it is yielded).

        ``tables_of(step)``: the tables the step touches (None: not known), whose columns
        and indexes are read before it where DDL is not rolled back."""
        total = len(steps)
        for index, step in enumerate(steps, 1):
            self.check()
            text = describe_step(step)
            self.step_tables = _guarded(tables_of, step) if tables_of is not None else None
            self.step_catalog = self._catalog()
            self.check()
            self.steps.append(text)
            with self._lock:
                self.step_statements = []
            if self._on_step is not None:
                with contextlib.suppress(Exception):
                    self._on_step(index, total, text)
            yield step

    def _catalog(self) -> Catalog | None:
        """The schema now, on the migration's connection (its reads are not the step's:
        the step's statements are reset after it); None if it cannot be read."""
        from migtui.core.env.catalog import catalogued, read_catalog

        if self._conn is None or not catalogued(self._dialect):
            return None
        try:
            return read_catalog(self._conn, self.step_tables)
        except Exception:
            return None

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop (called before every statement)."""
        if self._cancelled.is_set():
            raise Cancelled("Cancelled: the transaction rolled back")

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.check()
        with self._lock:
            self.statement = " ".join(self.as_sent(str(statement)).split())
            self._started = time.monotonic()
            if self.steps:
                self.step_statements.append(self.as_sent(str(statement)))

    def as_sent(self, statement: str) -> str:
        """A statement as the database got it: where the driver's paramstyle is
        ``format`` or ``pyformat`` (psycopg, PyMySQL), SQLAlchemy writes a literal % as
        %% and the driver turns it back (what the revision file has, too)."""
        return statement.replace("%%", "%") if self._percent_doubled else statement

    def _after(self, *args: Any) -> None:
        with self._lock:
            self.statement = ""

    # -- called from the UI's side --------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the migration: refuse its next statement, cancel the one running now."""
        self._cancelled.set()
        if self._dialect in _BACKEND_ID and self._pid and self._watcher_engine is not None:
            import sqlalchemy as sa

            cancel = ("SELECT pg_cancel_backend(:pid)" if self._dialect == "postgresql"
                      else f"KILL QUERY {int(self._pid)}")  # (KILL takes no parameter)
            with contextlib.suppress(Exception), self._watcher_engine.connect() as conn:
                conn.execute(sa.text(cancel), {"pid": self._pid})
        elif self._dialect == "sqlite" and self._dbapi is not None:
            with contextlib.suppress(Exception):
                self._dbapi.interrupt()

    def finish(self) -> None:
        """The action ended: stop the watcher thread and let go of its connection."""
        self._done.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        if self._watcher_engine is not None:
            with contextlib.suppress(Exception):
                self._watcher_engine.dispose()
        if self._conn is not None:
            from sqlalchemy import event

            with contextlib.suppress(Exception):
                event.remove(self._conn, "before_cursor_execute", self._before)
                event.remove(self._conn, "after_cursor_execute", self._after)

    # -- the watcher thread -----------------------------------------------------------

    def _watch(self) -> None:
        while not self._done.wait(_POLL_S):
            with self._lock:
                statement, started = self.statement, self._started
            if not statement or time.monotonic() - started < _REPORT_AFTER_S:
                continue
            waited = int(time.monotonic() - started)
            self._say(self._describe_wait(statement, waited))

    def _describe_wait(self, statement: str, waited: int) -> str:
        running = _short(statement)
        if self._dialect in _BACKEND_ID and self._pid and self._watcher_engine is not None:
            read = _pg_wait if self._dialect == "postgresql" else _mysql_wait
            try:
                with self._watcher_engine.connect() as conn:
                    found = read(conn, self._pid)
            except Exception:
                found = ""
            if found:
                return f"waiting {waited} s {found}; running: {running}"
        return f"running for {waited} s: {running}"


def _guarded(tables_of: TablesOf, step: Any) -> frozenset[str] | None:
    try:
        return tables_of(step)
    except Exception:
        return None


def describe_step(step: Any) -> str:
    """'upgrade a, b -> c' for one of Alembic's migration steps (merges included)."""
    direction = "upgrade" if getattr(step, "is_upgrade", True) else "downgrade"
    sources = ", ".join(r[:12] for r in getattr(step, "from_revisions", ()) or ()) or "base"
    targets = ", ".join(r[:12] for r in getattr(step, "to_revisions", ()) or ()) or "base"
    return f"{direction} {sources} -> {targets}"


def _short(statement: str, limit: int = 90) -> str:
    return statement if len(statement) <= limit else statement[: limit - 1] + "…"


# The id of the migration's session, for a second connection to ask about it and
# cancel its statement (PostgreSQL's backend pid, MySQL's and MariaDB's connection id).
_BACKEND_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()",
               "mariadb": "SELECT CONNECTION_ID()"}

_PG_WAIT = (
    "SELECT a.wait_event_type, pg_blocking_pids(a.pid),"
    " (SELECT string_agg(DISTINCT c.relname, ', ') FROM pg_locks l"
    "   JOIN pg_class c ON c.oid = l.relation WHERE l.pid = a.pid AND NOT l.granted)"
    " FROM pg_stat_activity a WHERE a.pid = :pid"
)
_PG_HOLDER = (
    "SELECT pid, query, now() - xact_start FROM pg_stat_activity WHERE pid = :pid"
)


def _pg_wait(conn: Connection, pid: int) -> str:
    """'for a lock on t0 held by pid 4242 (in a transaction for 12 s: LOCK TABLE …)'
    or '' when the backend is not waiting for a lock."""
    import sqlalchemy as sa

    row = conn.execute(sa.text(_PG_WAIT), {"pid": pid}).first()
    if row is None or row[0] != "Lock" or not row[1]:
        return ""
    blocker = int(row[1][0])
    on = f" on {row[2]}" if row[2] else ""
    holder = conn.execute(sa.text(_PG_HOLDER), {"pid": blocker}).first()
    query = " ".join(str(holder[1] or "").split()) if holder else ""
    since = holder[2] if holder else None
    seconds = getattr(since, "total_seconds", None)
    held = f"in a transaction for {int(seconds())} s" if seconds is not None else ""
    what = ": ".join(filter(None, (held, _short(query, 60))))
    return f"for a lock{on} held by pid {blocker}" + (f" ({what})" if what else "")


_MY_STATE = "SELECT state FROM information_schema.processlist WHERE id = :pid"
_MY_ROW_WAIT = ("SELECT trx_state FROM information_schema.innodb_trx"
                " WHERE trx_mysql_thread_id = :pid")
_MY_TRANSACTIONS = (
    "SELECT t.trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), p.info"
    " FROM information_schema.innodb_trx t"
    " LEFT JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id"
    " WHERE t.trx_mysql_thread_id <> :pid ORDER BY t.trx_started"
)


def _mysql_wait(conn: Connection, pid: int) -> str:
    """'for a row lock held by connection 42 (in a transaction for 12 s: UPDATE …)',
    'for a lock (waiting for table metadata lock) …', or '' when the session is not
    waiting for a lock.

    MySQL and MariaDB say what a session waits for in its state (a metadata lock) or in
    InnoDB's transaction list (a row lock), but not who holds a metadata lock: the
    sessions with an open transaction are the ones that can. A user without the
    PROCESS privilege sees no InnoDB list: the state alone is said."""
    import sqlalchemy as sa

    def innodb(query: str) -> list[Any]:
        try:
            return list(conn.execute(sa.text(query), {"pid": pid}).all())
        except sa.exc.DBAPIError:
            conn.rollback()
            return []

    state = str(conn.execute(sa.text(_MY_STATE), {"pid": pid}).scalar() or "")
    if any(str(row[0]).upper() == "LOCK WAIT" for row in innodb(_MY_ROW_WAIT)):
        text = "for a row lock"
    elif "lock" in state.lower():
        text = f"for a lock ({state[:1].lower()}{state[1:]})"
    else:
        return ""
    holders = innodb(_MY_TRANSACTIONS)
    if len(holders) == 1:
        thread, seconds, query = holders[0]
        what = ": ".join(filter(None, (f"in a transaction for {int(seconds or 0)} s",
                                       _short(" ".join(str(query or "").split()), 60))))
        return f"{text} held by connection {thread} ({what})"
    if holders:
        ids = ", ".join(str(h[0]) for h in holders[:5])
        return f"{text}; connections in a transaction: {ids}"
    return text


def _second_engine(connection: Connection) -> Engine | None:
    """An engine for a second connection to the same server, outside env.py's pool."""
    import sqlalchemy as sa

    url = connection.engine.url
    if connection.dialect.is_async:  # the watcher's reads are plain blocking ones
        url = url.set(drivername="postgresql+psycopg" if connection.dialect.name ==
                      "postgresql" else f"{url.get_backend_name()}+pymysql")
    try:
        return sa.create_engine(url, poolclass=sa.pool.NullPool,
                                connect_args={"connect_timeout": 5})
    except Exception:
        return None
