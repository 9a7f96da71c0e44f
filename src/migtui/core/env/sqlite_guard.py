"""While migtui only looks at a database, opening a SQLite file must never create it.

A SQLite URL naming a file that does not exist makes SQLite create an empty database on
connect. migtui reads the status of a fresh clone before anything was upgraded: that
read must leave no file behind (the first upgrade creates it, as on the CLI).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

_looking = threading.local()


class SqliteFileMissing(Exception):
    """Raised instead of letting SQLite create a database file while we only look."""

    def __init__(self, path: str) -> None:
        super().__init__(f"SQLite database file does not exist: {path}")
        self.path = path


class SqliteFolderMissing(Exception):
    """The folder of a SQLite database file does not exist: nothing can create it."""

    def __init__(self, folder: str) -> None:
        super().__init__(f"the folder of the SQLite database does not exist: {folder}")


@event.listens_for(Engine, "do_connect")
def _refuse_to_create_sqlite(
    dialect: Dialect, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
) -> None:
    """While only looking, opening a missing SQLite file must not create it."""
    if not getattr(_looking, "active", False) or dialect.name != "sqlite":
        return
    database = cparams.get("database", cargs[0] if cargs else "")
    if not database or database == ":memory:" or str(database).startswith("file:"):
        return
    if cparams.get("uri"):
        return
    if not os.path.exists(database):
        folder = os.path.dirname(os.path.abspath(database))
        if not os.path.isdir(folder):
            raise SqliteFolderMissing(folder)
        raise SqliteFileMissing(os.path.abspath(database))


@contextmanager
def looking_only(active: bool = True) -> Iterator[None]:
    """Within this block (this thread), connecting never creates a SQLite file."""
    before = getattr(_looking, "active", False)
    _looking.active = active
    try:
        yield
    finally:
        _looking.active = before
