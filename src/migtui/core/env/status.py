"""Read what the database holds by running the project's own env.py."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

from migtui.core.env.capture import LineSink, captured
from migtui.core.env.urls import mask_url, remember_secret
from migtui.core.errors import from_exception
from migtui.core.models import DatabaseState, DatabaseStatus

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
def looking_only() -> Iterator[None]:
    """Within this block (this thread), connecting never creates a SQLite file."""
    before = getattr(_looking, "active", False)
    _looking.active = True
    try:
        yield
    finally:
        _looking.active = before


def read_status(
    config: Config, script: ScriptDirectory, on_line: LineSink | None = None
) -> DatabaseStatus:
    """Run env.py online with a callback that reads the current heads, as `alembic current`."""
    found: dict[str, Any] = {}

    def read(rev: Any, context: MigrationContext) -> list[Any]:
        conn = context.connection
        if conn is not None:
            remember_secret(conn.engine.url)
            found["url"] = mask_url(conn.engine.url)
        found["dialect"] = context.dialect.name
        found["heads"] = tuple(context.get_current_heads())
        return []

    try:
        with captured(on_line), looking_only(), EnvironmentContext(
            config, script, fn=read, dont_mutate=True
        ):
            script.run_env()
    except SqliteFileMissing as exc:
        return DatabaseStatus(
            state=DatabaseState.OK,
            url=f"sqlite:///{exc.path}",
            dialect="sqlite",
            current_heads=(),
            error=f"{os.path.basename(exc.path)} does not exist yet: the first upgrade creates it",
        )
    except SqliteFolderMissing as exc:
        return DatabaseStatus(
            state=DatabaseState.UNREACHABLE, dialect="sqlite", error=str(exc),
            url=found.get("url") or mask_url(_configured_url(config)),
        )
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py may raise anything, even SystemExit
        err = from_exception(exc, "Cannot read the database")
        return DatabaseStatus(
            state=DatabaseState.UNREACHABLE,
            url=found.get("url") or mask_url(_configured_url(config)),
            dialect=found.get("dialect", ""),
            error=err.message,
            error_details=err.details,
        )
    if "heads" not in found:
        return DatabaseStatus(
            state=DatabaseState.UNREACHABLE,
            url=mask_url(_configured_url(config)),
            error="env.py did not run migrations online (is it in offline mode?)",
        )
    return DatabaseStatus(
        state=DatabaseState.OK,
        url=found.get("url", ""),
        dialect=found.get("dialect", ""),
        current_heads=found["heads"],
    )


def _configured_url(config: Config) -> str | None:
    try:
        return config.get_main_option("sqlalchemy.url")
    except Exception:
        return None
