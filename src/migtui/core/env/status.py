"""Read what the database holds by running the project's own env.py."""

from __future__ import annotations

import contextlib
import os
import socket
import traceback
from collections.abc import Callable
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from migtui.core.env.capture import LineSink
from migtui.core.env.looking import SqliteFileMissing, SqliteFolderMissing
from migtui.core.env.mysql import dialect_name
from migtui.core.env.reach import refused_login
from migtui.core.env.runner import run_env
from migtui.core.env.urls import mask_url, remember_secret
from migtui.core.errors import exception_chain, from_exception
from migtui.core.models import DatabaseState, DatabaseStatus


def read_status(
    config: Config, script: ScriptDirectory, on_line: LineSink | None = None,
    also: Callable[[Connection], None] | None = None,
) -> DatabaseStatus:
    """Run env.py online with a callback that reads the current heads, as `alembic current`.

    ``also`` is called with env.py's connection after the heads are read (a read of
    the same database in the same run); what it raises is ignored."""
    found: dict[str, Any] = {}

    def connected(context: MigrationContext) -> None:  # (before Alembic reads the heads)
        found["connected"] = context.connection is not None

    def read(rev: Any, context: MigrationContext) -> list[Any]:
        url = context_url(context)
        if url is not None:
            found["url"] = url
            found["identity"] = context_database(context)
        found["dialect"] = dialect_name(context.dialect)
        found["heads"] = tuple(context.get_current_heads())
        if also is not None and context.connection is not None:
            with contextlib.suppress(Exception):
                also(context.connection)
        return []

    try:
        run_env(config, script, read, on_line=on_line, dont_mutate=True, before_run=connected)
    except SqliteFileMissing as exc:
        return DatabaseStatus(
            state=DatabaseState.OK,
            url=exc.url,
            dialect="sqlite",
            current_heads=(),
            error=f"{os.path.basename(exc.path)} does not exist yet: the first upgrade creates it",
            # Which file, even before it exists: a step runs only where env.py connects
            # to the same one (no version table to name yet: the URL alone).
            identity=url_identity(exc.url),
        )
    except SqliteFolderMissing as exc:
        return DatabaseStatus(
            state=DatabaseState.UNREACHABLE, dialect="sqlite", error=str(exc),
            url=found.get("url") or mask_url(_configured_url(config)), cause="connection",
        )
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py may raise anything, even SystemExit
        cause, context = failure_cause(exc, script)
        if cause == "connection" and found.get("connected") and "heads" not in found:
            # Connected, then reading alembic_version failed: a permission, a lock
            cause, context = "version table", "Cannot read the version table"
        err = from_exception(exc, context)
        return DatabaseStatus(
            state=DatabaseState.UNREACHABLE,
            url=found.get("url") or mask_url(_configured_url(config)),
            dialect=found.get("dialect", ""),
            error=err.message,
            error_details=err.details,
            cause=cause,
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
        identity=found.get("identity", ""),
    )


def context_url(context: MigrationContext) -> str | None:
    """The URL env.py connected with, password masked (and remembered for scrubbing),
    or None while it runs offline."""
    conn = context.connection
    return mask_url(conn.engine.url) if conn is not None else None


def url_identity(url: str) -> str:
    """The URL part of :func:`context_database` (the URL without its query, password
    hidden), for a database that cannot be connected to yet ("" if not a URL)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).set(query={}).render_as_string(hide_password=True)
    except Exception:
        return ""


def context_database(context: MigrationContext) -> str:
    """Which database env.py connected to and where it keeps alembic_version: the URL
    (password masked), the version table and the schema it is in ("" while offline).

    Two runs of env.py that say the same here work on the same database: what a write
    compares with the dialog's read, for an env.py that picks its database as it runs
    (a URL from a file, ``-x tenant=…``, a search_path it sets).
    """
    conn = context.connection
    if conn is None:
        return ""
    schema = context.version_table_schema or getattr(conn.dialect, "default_schema_name", "")
    table = ".".join(part for part in (schema, context.version_table) if part)
    # Not mask_url: it also blanks every secret learnt so far, which would make the same
    # database look different once another environment's password is known.
    url = conn.engine.url.set(query={})
    name = url.database or ""
    if (conn.dialect.name == "sqlite" and name and name != ":memory:"
            and not name.startswith("file:") and not os.path.isabs(name)):
        # As SQLite opened it (from the working folder), and as a file that does not
        # exist yet is named (SqliteFileMissing): the same file, the same words.
        url = url.set(database=os.path.abspath(name))
    return f"{url.render_as_string(hide_password=True)} ({table})"


def failure_cause(exc: BaseException, script: ScriptDirectory) -> tuple[str, str]:
    """("connection" | "login" | "env.py", the words that start the error) for a failed
    env.py run.

    A DBAPI or socket error is the database not answering (its host and port are in the
    message, the password masked). Anything else raised before a connection is env.py
    (or the logging config, the settings module, the event loop it needs) failing: the
    error names env.py's line where it happened.
    """
    chain = exception_chain(exc)
    if any(isinstance(e, (sa_exc.DBAPIError, sa_exc.InterfaceError, ConnectionError,
                          TimeoutError, socket.gaierror)) for e in chain):
        if refused_login(exc):
            return "login", "The database refused the login"
        return "connection", "The database cannot be reached"
    env_py = os.path.realpath(script.env_py_location)
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if os.path.realpath(frame.f_code.co_filename) == env_py:
            line = lineno
    where = f"env.py, line {line}" if line else "env.py"
    return "env.py", f"env.py failed ({where})"


def remember_configured_secrets(config: Config) -> None:
    """Remember the configured URL's secrets (as a read here does when env.py connects)
    so that every text shown is scrubbed of them: for a status read in another process."""
    remember_secret(_configured_url(config))


def _configured_url(config: Config) -> str | None:
    try:
        return config.get_main_option("sqlalchemy.url")
    except Exception:
        return None
