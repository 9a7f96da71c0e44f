"""PostgreSQL's catalog for the inspector: tables locked by other sessions, row estimates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Relations another session holds in ACCESS EXCLUSIVE mode: reading their size or rows
# would wait for that session (up to the lock timeout, for each of them).
_PG_LOCKED = (
    "SELECT n.nspname, c.relname, l.pid, a.query, now() - a.xact_start"
    " FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def pg_locked(conn: Connection) -> dict[tuple[str | None, str], str]:
    """Tables locked by another session, each with who holds the lock."""
    found: dict[tuple[str | None, str], str] = {}
    for schema, name, pid, query, held in conn.execute(sa.text(_PG_LOCKED)):
        found[(schema, name)] = lock_holder_text(pid, query, held)
    return found


def lock_holder_text(pid: int, query: str | None, held: Any = None) -> str:
    """"locked by pid 4242 for 12 s: LOCK TABLE t5 …" (the holder's last statement)."""
    seconds = getattr(held, "total_seconds", None)
    since = f" for {int(seconds())} s" if seconds is not None else ""
    statement = " ".join((query or "").split())
    statement = statement if len(statement) <= 80 else statement[:79] + "…"
    return f"locked by pid {pid}{since}" + (f": {statement}" if statement else "")


def pg_stats(conn: Connection) -> dict[tuple[str | None, str], float]:
    """PostgreSQL's row estimates, scaled to each table's current size as the planner does
    (pg_relation_size waits for an ACCESS EXCLUSIVE lock: not for tables locked so)."""
    rows = conn.execute(sa.text(
        "SELECT n.nspname, c.relname, c.reltuples, c.relpages,"
        " CASE WHEN EXISTS (SELECT 1 FROM pg_locks l WHERE l.relation = c.oid"
        "  AND l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid())"
        " THEN c.relpages"
        " ELSE pg_relation_size(c.oid) / current_setting('block_size')::int END"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'm', 'p')"))
    stats: dict[tuple[str | None, str], float] = {}
    for schema, name, tuples, pages, now_pages in rows:
        if tuples is None or tuples < 0 or not pages:
            continue
        stats[(schema, name)] = float(tuples) / pages * max(int(now_pages), 1)
    return stats
