"""Whether a database server answers at all, asked without running env.py.

env.py runs take the process-wide ENV_LOCK one after another, so a server that does
not answer would hold every other read back for its whole connect timeout. Before an
environment's env.py run, its configured URL is connected to here, outside that lock,
with the looking-only timeouts: a server that does not answer costs only the worker
that asked, and is reported without env.py ever waiting on it.

The same connection then reads nothing from alembic_version (``LIMIT 0``; in the
tenant's schema for a tenant), so that a version table locked by another session is
waited for here, outside the lock, for the looking-only lock timeout.

Only a connection error or that lock timeout counts. Whatever else gets in the way (an
async driver, a driver that is not installed, a URL that env.py rewrites, a version
table of another name or place) is left to env.py's own run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from migtui.core.errors import exception_chain, from_exception
from migtui.core.models import DatabaseState, DatabaseStatus

if TYPE_CHECKING:
    import sqlalchemy as sa

_ASYNC_DRIVERS = ("asyncpg", "aiosqlite", "aiomysql", "asyncmy", "psycopg_async")
# The server answered and turned the login down (PostgreSQL's libpq, MySQL / MariaDB).
_LOGIN_REFUSED = re.compile(
    r"password authentication failed|no password supplied|authentication failed for user"
    r"|pg_hba\.conf|role \"[^\"]*\" does not exist|Access denied for user", re.IGNORECASE)


def refused_login(exc: BaseException) -> bool:
    """Whether a connection failed because the server refused the user or password
    (rather than not answering): said as "login refused", not "unreachable"."""
    return any(_LOGIN_REFUSED.search(str(e)) for e in exception_chain(exc))


def asked_first(url: str) -> bool:
    """Whether a database at ``url`` may be read by env.py under ENV_LOCK: a SQLite file
    (no server to wait for) or a server that :func:`unreachable` can ask first (not
    through an async driver)."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        return False
    return (parsed.get_backend_name() == "sqlite"
            or parsed.get_driver_name() not in _ASYNC_DRIVERS)


def unreachable(url: str, schema: str = "") -> DatabaseStatus | None:
    """The status of a server that does not answer at ``url`` (or whose alembic_version,
    in ``schema``, stays locked); None when it answered (or when this cannot tell:
    SQLite, an async driver, a missing driver)."""
    # (Imported here: the app draws its first screen before SQLAlchemy is imported.)
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.pool import NullPool

    from migtui.core.env.looking import add_timeouts
    from migtui.core.env.urls import mask_url

    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        return None
    if parsed.get_backend_name() == "sqlite" or parsed.get_driver_name() in _ASYNC_DRIVERS:
        return None
    try:
        engine = sa.create_engine(parsed, poolclass=NullPool)
    except Exception:  # e.g. the driver is not installed: env.py's run will say so
        return None

    @event.listens_for(engine, "do_connect")
    def _timeouts(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        add_timeouts(dialect, cparams)

    try:
        with engine.connect() as conn:
            return _locked(conn, schema, url)
    except (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError,
            TimeoutError) as exc:
        login = refused_login(exc)
        err = from_exception(exc, "The database refused the login" if login
                             else "The database cannot be reached")
        return DatabaseStatus(DatabaseState.UNREACHABLE, url=mask_url(url),
                              dialect=parsed.get_backend_name(), error=err.message,
                              error_details=err.details,
                              cause="login" if login else "connection")
    except Exception:
        return None
    finally:
        engine.dispose()


_LOCK_TIMEOUT = ("55P03", 1205)  # PostgreSQL lock_not_available; MySQL lock wait timeout


def _locked(conn: sa.Connection, schema: str, url: str) -> DatabaseStatus | None:
    """Wait (for the lock timeout at most) until alembic_version can be read."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    from migtui.core.env.urls import mask_url

    table = sa.table("alembic_version", schema=schema or None)
    try:
        conn.execute(sa.select(sa.literal(1)).select_from(table).limit(0))
    except sa_exc.DBAPIError as exc:
        orig = exc.orig
        code = (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
                or (orig.args[0] if orig is not None and orig.args else None))
        if code not in _LOCK_TIMEOUT:
            return None  # no such table here, say: env.py's run tells
        where = f"{schema}.alembic_version" if schema else "alembic_version"
        err = from_exception(exc, f"{where} is locked by another session")
        return DatabaseStatus(DatabaseState.UNREACHABLE, url=mask_url(url),
                              dialect=conn.dialect.name, error=err.message,
                              error_details=err.details, cause="lock")
    return None
