"""What the last comparison read of an SQLite schema, reused while the schema is the same.

Autogenerate reads the database's whole schema through one SQLAlchemy ``Inspector``,
whose ``info_cache`` memoizes every reflection call (columns, indexes, keys... of each
table). On a model of 1,000 tables that reading is a large part of each comparison, and
between two comparisons (a model saved, ``a`` pressed again) the database has usually not
moved. So the comparison's process records, as they are first read, pristine copies of
the entries of that cache; the next comparison starts Alembic's inspector with them, and
Alembic's own comparison runs unchanged on the same answers the database would give.

Only while the schema is provably the same: on SQLite the schema *is* the text in
``sqlite_master`` (every table, index, view and trigger as its CREATE statement; the
pragmas that reflection reads derive from it), so the entries are keyed by a hash of that
text (of every attached database, and ``sqlite_temp_master``), with the versions of
SQLAlchemy and Alembic and the dialect. Any DDL, by anyone, changes the key and the
entries are read anew; entries read while the key changed under the comparison are not
kept. Other databases get no reuse: PostgreSQL and MySQL keep no cheap
fingerprint of their catalogs that covers every change (an event trigger would, but
migtui never writes to the database to look at it), so every comparison there reads the
schema afresh. Runs only in the comparison's child process.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import pickle
from collections.abc import Iterator
from typing import Any

import alembic
import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.util import memoized_property
from sqlalchemy.engine import Connection


class _Stored:
    """An entry not unpickled yet (most are never looked at again: Alembic reads the
    per-kind entries of all tables, not each table's own)."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob


class RecordingCache(dict[Any, Any]):
    """An Inspector's ``info_cache`` that starts with the recorded entries (each made a
    fresh object when first looked up) and keeps a pickled copy of every entry as it is
    first stored (before Alembic's comparison converts names in place). SQLAlchemy and
    Alembic use only ``get``, ``[]``, ``in``, item assignment and ``clear`` on it."""

    def __init__(self, recorded: dict[Any, bytes]) -> None:
        super().__init__()
        self.recorded = dict(recorded)
        for key, blob in recorded.items():
            super().__setitem__(key, _Stored(blob))

    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, _Stored):
            value = pickle.loads(value.blob)  # (our own bytes, from the last run)
            super().__setitem__(key, value)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            return default
        return self[key]  # (unpickled on the way)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        try:
            self.recorded[key] = pickle.dumps(value)
        except Exception:  # a type that does not pickle: read again next time
            self.recorded.pop(key, None)


def schema_key(connection: Connection) -> str | None:
    """The key of the schema as the connection sees it now; None where no key can be
    trusted (every database but SQLite)."""
    dialect = connection.dialect
    if dialect.name != "sqlite":
        return None
    digest = hashlib.sha256()
    for part in (sa.__version__, alembic.__version__, dialect.name, dialect.driver,
                 repr(getattr(dialect, "server_version_info", None)),
                 repr(dialect.default_schema_name),
                 repr(sorted(connection.get_execution_options().items(), key=repr))):
        digest.update(part.encode() + b"\0")
    quote = dialect.identifier_preparer.quote
    # "temp" is listed only once something has looked at it (reflection does): always
    # read it, by its own name, so that looking does not change the key.
    databases = [(name, path) for _seq, name, path
                 in connection.exec_driver_sql("PRAGMA database_list").all() if name != "temp"]
    for name, path in [*databases, ("temp", "")]:
        table = "sqlite_temp_master" if name == "temp" else f"{quote(name)}.sqlite_master"
        rows = connection.exec_driver_sql(
            f"SELECT type, name, tbl_name, sql FROM {table} ORDER BY rowid").all()
        digest.update(repr((name, path, rows)).encode())
    return digest.hexdigest()


def load(blob: str, key: str | None) -> dict[Any, bytes]:
    """The recorded entries of ``blob`` (from :func:`dump`) if they were read under
    ``key``; else none."""
    if not blob or key is None:
        return {}
    try:
        stored_key, entries = pickle.loads(base64.b64decode(blob))  # (ours: never from disk)
    except Exception:
        return {}
    return dict(entries) if stored_key == key else {}


def dump(cache: RecordingCache | None, key: str | None) -> str:
    """The recorded entries, for the next comparison ('' when there is nothing to keep)."""
    if cache is None or key is None or not cache.recorded:
        return ""
    return base64.b64encode(pickle.dumps((key, cache.recorded))).decode("ascii")


@contextlib.contextmanager
def reusing(connection: Connection, entries: dict[Any, bytes]) -> Iterator[RecordingCache]:
    """While inside: Alembic's autogenerate inspects ``connection`` through an Inspector
    whose cache starts with ``entries`` and records what is read anew."""
    cache = RecordingCache(entries)
    original = AutogenContext.__dict__["inspector"]

    def inspector(self: AutogenContext) -> sa.Inspector:
        found = original.fget(self)
        if self.connection is connection:  # (the comparison's own connection only)
            found.info_cache = cache
        return found  # type: ignore[no-any-return]

    AutogenContext.inspector = memoized_property(inspector)  # type: ignore[method-assign,assignment]
    try:
        yield cache
    finally:
        AutogenContext.inspector = original  # type: ignore[method-assign]
